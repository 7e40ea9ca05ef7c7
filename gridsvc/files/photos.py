"""Photos re-encoded without their metadata: what leaves gridsvc (a notice's PDF, the party's case page) and what a
party sends through a case link carries no EXIF, GPS, XMP, ICC comments or thumbnails, only pixels.

The image is decoded (Pillow; HEIC/HEIF, what iPhones take, through pillow-heif's libheif), turned upright by its
EXIF orientation, cut to a bounded size and written afresh as a baseline JPEG with nothing but its pixels. A photo
that cannot be decoded is refused (UnsupportedMediaTypeError) rather than passed through with its metadata.
"""

from __future__ import annotations

import functools
import io
import warnings

from ..errors import InputError, UnsupportedMediaTypeError

MAX_SIDE = 1600  # pixels of the longer side: plenty for A4 at 150 dpi, small on a phone
MAX_PIXELS = 60_000_000  # refuse decompression bombs before decoding


@functools.cache
def register_codecs() -> None:
    """Teach Pillow to open HEIC/HEIF (once per process)."""
    from pillow_heif import register_heif_opener

    register_heif_opener()


def clean_jpeg(data: bytes, max_side: int = MAX_SIDE, quality: int = 82) -> bytes:
    """The photo as a JPEG of its pixels only (upright, longer side at most max_side)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    register_codecs()

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if img.width * img.height > MAX_PIXELS:
                    raise InputError(f"the photo has {img.width}×{img.height} pixels; at most "
                                     f"{MAX_PIXELS // 1_000_000} million are accepted", where="photo")
                img = ImageOps.exif_transpose(img)
                img.thumbnail((max_side, max_side))
                rgb = img.convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombWarning, Image.DecompressionBombError) as e:
        raise UnsupportedMediaTypeError(f"the photo cannot be decoded here ({type(e).__name__}): send a JPEG, PNG "
                                        "or WebP photo", where="photo") from None
    except OSError as e:
        raise UnsupportedMediaTypeError(f"the photo is damaged or truncated ({e}): send it again", where="photo") \
            from None
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=quality, optimize=True)  # no exif=, icc_profile=, comment=: pixels only
    return out.getvalue()
