/* fieldsales console maps: draws what the page put in <script id="map-data"> with Leaflet.
   Layers use vector shapes only (circle markers, polylines, circles), so they draw with no
   tile server and need no marker images; tiles come from data-tile-url when it is set. */
(function () {
  "use strict";
  // A filter form whose target page is picked in a select (the rep of a rep's day): the
  // choice applies on "Show", never on a mere change of the select (keyboard users).
  Array.prototype.forEach.call(document.querySelectorAll("form[data-action-from]"),
    function (form) {
      form.addEventListener("submit", function () {
        var picker = document.getElementById(form.getAttribute("data-action-from"));
        if (picker) { form.action = picker.value; }
      });
    });

  var element = document.getElementById("map");
  var source = document.getElementById("map-data");
  if (!element || !source || typeof L === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var map = L.map(element, { zoomSnap: 0.5 });  // SVG: each shape is an element (tests count them)
  var tiles = element.getAttribute("data-tile-url");
  if (tiles) {
    L.tileLayer(tiles, { maxZoom: 19, attribution: element.getAttribute("data-tile-attribution") })
      .addTo(map);
  }
  var colours = { on_visit: "#146c2e", travelling: "#0b57d0", idle: "#8a4b00",
                  silent: "#b3261e", off_duty: "#5f6b7a" };
  var bounds = [];
  var layers = {};

  function time(ms) {
    var d = new Date(ms);
    return ("0" + d.getUTCHours()).slice(-2) + ":" + ("0" + d.getUTCMinutes()).slice(-2);
  }
  function text(value) {  // for popups: never HTML from the data
    var span = document.createElement("span");
    span.textContent = value;
    return span;
  }
  function group(name) {
    layers[name] = layers[name] || L.featureGroup().addTo(map);
    return layers[name];
  }

  (data.reps || []).forEach(function (rep) {
    var point = [rep.latitude, rep.longitude];
    bounds.push(point);
    var marker = L.circleMarker(point, { radius: 10, weight: 3, color: "#fff", fillOpacity: 1,
      fillColor: colours[rep.status] || "#333", className: "rep-marker" })
      .bindTooltip(text(rep.name), { permanent: true, direction: "right", offset: [10, 0] })
      .addTo(group("Reps"));
    var shape = marker.getElement();
    if (shape) { shape.setAttribute("aria-label", rep.label); }
    marker.on("click", function () { window.location = rep.url; });
  });

  (data.geofences || []).forEach(function (c) {
    L.circle([c.latitude, c.longitude], { radius: c.radius_m, color: "#146c2e", weight: 1,
      fillOpacity: 0.08, className: "geofence" }).bindTooltip(text(c.name)).addTo(group("Geofences"));
    bounds.push([c.latitude, c.longitude]);
  });

  var stops = data.stops || [];
  (data.trail || []).forEach(function (leg) {
    var clean = leg.pings.filter(function (p) { return !p.flagged; })
      .map(function (p) { return [p.latitude, p.longitude]; });
    // A leg runs from the stop before it to the stop after it: join it to them.
    var from = stops[leg.from_stop], to = stops[leg.to_stop];
    if (leg.from_stop !== null && from) { clean.unshift([from.latitude, from.longitude]); }
    if (leg.to_stop !== null && to) { clean.push([to.latitude, to.longitude]); }
    if (clean.length > 1) {
      L.polyline(clean, { color: "#0b57d0", weight: 3, opacity: 0.8, className: "trail" })
        .addTo(group("Trail"));
    }
    clean.forEach(function (p) { bounds.push(p); });
    leg.pings.filter(function (p) { return p.flagged; }).forEach(function (p) {
      L.circleMarker([p.latitude, p.longitude], { radius: 4, color: "#b3261e", weight: 1,
        fill: false, className: "flagged-ping" })
        .bindTooltip(text("Flagged " + time(p.recorded_at) + ": " + p.flags.join(", ")))
        .addTo(group("Flagged pings"));
    });
  });

  stops.forEach(function (s, index) {
    var label = "Stop " + (index + 1) + " " + time(s.started_at) + "–" + time(s.ended_at) +
      (s.customer ? " at " + s.customer.name : " at no customer");
    L.circleMarker([s.latitude, s.longitude], { radius: 8, weight: 2, color: "#1b1f24",
      fillColor: s.customer ? "#146c2e" : "#f9ab00", fillOpacity: 0.9, className: "stop-marker" })
      .bindTooltip(text(label)).addTo(group("Stops"));
    bounds.push([s.latitude, s.longitude]);
  });

  // Territories: each rep's customers, in the rep's colour (as the page's .swatch.rep-N).
  var repColours = ["#0b57d0", "#146c2e", "#b3261e", "#8a4b00", "#6f2da8", "#00695c",
                    "#c2185b", "#37474f"];
  (data.customers || []).forEach(function (c) {
    L.circleMarker([c.latitude, c.longitude], { radius: 6, weight: 1, color: "#fff",
      fillColor: repColours[c.colour % repColours.length], fillOpacity: 0.9,
      className: "customer-marker" })
      .bindTooltip(text(c.name + " · " + c.rep_name)).addTo(group("Customers"));
    bounds.push([c.latitude, c.longitude]);
  });

  // Plans: the day's stops numbered in planned order, joined from the start point.
  if (data.plan) {
    var route = [];
    var start = data.plan.start;
    if (start) {
      var home = [start.latitude, start.longitude];
      route.push(home);
      bounds.push(home);
      L.marker(home, { keyboard: false, icon: L.divIcon({ className: "plan-start",
        html: "S", iconSize: [26, 26] }) }).bindTooltip(text("Start point")).addTo(group("Plan"));
    }
    data.plan.stops.forEach(function (s) {
      var point = [s.latitude, s.longitude];
      route.push(point);
      bounds.push(point);
      var marker = L.marker(point, { keyboard: false, title: s.label, icon: L.divIcon({
        className: "plan-stop plan-" + s.status, html: String(s.number), iconSize: [28, 28] }) })
        .bindTooltip(text(s.label));
      marker.addTo(group("Plan"));
    });
    if (route.length > 1) {
      L.polyline(route, { color: "#6f2da8", weight: 3, opacity: 0.8, dashArray: "6 4",
        className: "plan-route" }).addTo(group("Plan"));
    }
  }

  if (Object.keys(layers).length > 1) { L.control.layers(null, layers).addTo(map); }
  if (bounds.length) {
    // Room on the right for the reps' name labels.
    map.fitBounds(bounds, { paddingTopLeft: [24, 24],
      paddingBottomRight: [data.reps && data.reps.length ? 120 : 24, 24], maxZoom: 16 });
  } else {
    map.setView([20, 0], 2);
  }
  element.setAttribute("data-drawn", String(bounds.length));
})();
