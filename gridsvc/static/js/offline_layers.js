/* gridsvc offline maps: decode the compact layer data of gridsvc/exporters/map_data.py into Leaflet layers.
   Every text from the data reaches the page through textContent, never as HTML. */
(function (root) {
  "use strict";

  function points(xy, scale) {
    var n = xy.length / 2, out = new Array(n), x = 0, y = 0;
    for (var i = 0; i < n; i++) {
      x += xy[2 * i];
      y += xy[2 * i + 1];
      out[i] = [x / scale, y / scale];
    }
    return out;
  }

  function nest(items, lengths) {
    var out = new Array(lengths.length), k = 0;
    for (var i = 0; i < lengths.length; i++) {
      out[i] = items.slice(k, k + lengths[i]);
      k += lengths[i];
    }
    return out;
  }

  function geometries(spec) {
    var pts = points(spec.xy, spec.scale);
    if (spec.family === "point") {
      return pts.map(function (p) { return {type: "Point", coordinates: p}; });
    }
    var parts = nest(pts, spec.parts[0]);
    if (spec.family === "line") {
      return nest(parts, spec.parts[1]).map(function (c) { return {type: "MultiLineString", coordinates: c}; });
    }
    var polygons = nest(parts, spec.parts[1]);
    return nest(polygons, spec.parts[2]).map(function (c) { return {type: "MultiPolygon", coordinates: c}; });
  }

  function popup(fields, strings, row) {
    var div = document.createElement("div"), table = document.createElement("table");
    div.className = "gridsvc-popup";
    for (var i = 0; i < fields.length; i++) {
      var value = strings[row[i]];
      if (value === "") continue;
      var tr = table.insertRow(), th = document.createElement("th");
      th.textContent = fields[i];
      tr.appendChild(th);
      tr.insertCell().textContent = value;
    }
    div.appendChild(table);
    return div;
  }

  function colour(spec, strings, row) {
    var s = spec.style, hit = s.palette && s.palette[strings[row[s.palette_field]]];
    return hit || s.color;
  }

  function clusterIcon(text) {
    var n = parseInt(text, 10) || 1, size = n < 10 ? 28 : n < 100 ? 34 : 42, el = document.createElement("div");
    el.textContent = String(n);
    return L.divIcon({html: el, className: "gridsvc-cluster", iconSize: [size, size]});
  }

  function build(spec, strings) {
    var s = spec.style, geoms = geometries(spec), features = new Array(geoms.length);
    for (var i = 0; i < geoms.length; i++) {
      features[i] = {type: "Feature", geometry: geoms[i], properties: {row: spec.rows[i]}};
    }
    var path = {color: s.color, weight: s.weight, opacity: s.opacity === undefined ? 0.9 : s.opacity,
                fillOpacity: s.fillOpacity, fill: s.fill !== false && spec.family !== "line",
                dashArray: s.dashArray || null, interactive: s.interactive !== false};
    var layer = L.geoJSON(features, {
      style: function (f) {
        var c = colour(spec, strings, f.properties.row);
        return L.extend({}, path, {color: c, fillColor: c});
      },
      pointToLayer: function (f, latlng) {
        if (s.cluster) {
          return L.marker(latlng, {icon: clusterIcon(strings[f.properties.row[0]])});
        }
        var c = colour(spec, strings, f.properties.row);
        return L.circleMarker(latlng, L.extend({}, path, {radius: s.radius || 5, color: "#ffffff", weight: 1,
                                                          fillColor: c, fillOpacity: s.fillOpacity || 0.9}));
      },
      onEachFeature: function (f, l) {
        if (!spec.fields.length || s.interactive === false) return;
        l.bindPopup(function () { return popup(spec.fields, strings, f.properties.row); }, {maxWidth: 420});
        if (spec.family !== "point" && l.setStyle) {
          l.on("mouseover", function () { l.setStyle({weight: (s.weight || 1) + 2}); });
          l.on("mouseout", function () { layer.resetStyle(l); });
        }
      }
    });
    return layer;
  }

  /* Fill groups[i] with data.layers[i]. */
  root.gridsvcAddLayers = function (groups, data) {
    for (var i = 0; i < data.layers.length; i++) {
      groups[i].addLayer(build(data.layers[i], data.strings));
    }
  };
})(window);
