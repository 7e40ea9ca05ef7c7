-- One inspection's item results, set-based; :photos holds each item's photo list as a JSON array text.
INSERT INTO inspection_results (inspection_id, seq, item_id, result, score, note, photos)
SELECT :i, r.seq, r.item, r.result, r.score, r.note, ARRAY(SELECT jsonb_array_elements_text(CAST(r.photos AS jsonb)))
FROM unnest(CAST(:seq AS smallint[]), CAST(:item AS text[]), CAST(:result AS text[]), CAST(:score AS numeric[]),
            CAST(:note AS text[]), CAST(:photos AS text[])) AS r(seq, item, result, score, note, photos)
