// Placemap's map page (docs/tiles.md): the places' vector tiles with clusters, a search
// box, a popup per place, and live updates from the websocket feed (docs/live-feed.md).
// Plain script, no build step; MapLibre GL JS is vendored next to it.
(() => {
  "use strict";

  const config = JSON.parse(document.getElementById("map-config").textContent);
  const SOURCE = "places";
  const PALETTE = [
    "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
    "#1f78b4", "#b2182b", "#4d9221", "#8c510a", "#01665e", "#762a83", "#555555",
  ];
  const categoryColour = ["match", ["get", "category"]];
  Object.keys(config.categories).forEach((slug, index) => {
    categoryColour.push(slug, PALETTE[index % PALETTE.length]);
  });
  categoryColour.push("#555555");

  // Shown when MAP_STYLE_URL is empty or cannot be loaded: a background and the places.
  const BUILT_IN_STYLE = {
    version: 8,
    name: "Placemap plain",
    sources: {},
    layers: [{ id: "background", type: "background", paint: { "background-color": "#e8eee4" } }],
  };

  const state = { map: null, tiles: [], tileVersion: 0, events: [], socket: null };
  window.placemap = state; // for the browser test and for debugging from the console

  function element(tag, props, ...children) {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    children.forEach((child) => child != null && node.append(child));
    return node;
  }

  async function loadStyle() {
    if (!config.styleUrl) return BUILT_IN_STYLE;
    try {
      const response = await fetch(config.styleUrl, { signal: AbortSignal.timeout(5000) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return await response.json();
    } catch (error) {
      console.warn("Basemap style unavailable, using the plain style:", error.message);
      return BUILT_IN_STYLE;
    }
  }

  function versioned(template) {
    // A new query string after a live event: the browser (and a CDN) may hold the old
    // tile for TILE_MAX_AGE seconds otherwise.
    if (!state.tileVersion) return template;
    return template + (template.includes("?") ? "&" : "?") + "v=" + state.tileVersion;
  }

  function addPlaceLayers(map, tilejson, hasGlyphs) {
    state.tiles = tilejson.tiles;
    map.addSource(SOURCE, {
      type: "vector",
      tiles: tilejson.tiles,
      minzoom: tilejson.minzoom,
      maxzoom: tilejson.maxzoom,
      bounds: tilejson.bounds,
    });
    map.addLayer({
      id: "clusters",
      type: "circle",
      source: SOURCE,
      "source-layer": "places",
      filter: ["has", "point_count"],
      paint: {
        "circle-color": ["step", ["get", "point_count"], "#51bbd6", 10, "#3288bd", 100, "#f1a340", 1000, "#d7301f"],
        "circle-radius": ["step", ["get", "point_count"], 13, 10, 17, 100, 22, 1000, 28],
        "circle-stroke-width": 2,
        "circle-stroke-color": "#ffffff",
      },
    });
    map.addLayer({
      id: "place-points",
      type: "circle",
      source: SOURCE,
      "source-layer": "places",
      filter: ["!", ["has", "point_count"]],
      paint: {
        "circle-color": categoryColour,
        "circle-radius": ["interpolate", ["linear"], ["zoom"], 4, 4, 16, 7],
        "circle-stroke-width": 1.5,
        "circle-stroke-color": "#ffffff",
      },
    });
    if (hasGlyphs) {
      // A basemap with fonts: the stock Supercluster label.
      map.addLayer({
        id: "cluster-count",
        type: "symbol",
        source: SOURCE,
        "source-layer": "places",
        filter: ["has", "point_count"],
        layout: { "text-field": ["get", "point_count_abbreviated"], "text-size": 12 },
        paint: { "text-color": "#ffffff" },
      });
    } else {
      // The plain style has no fonts (no glyph server, nothing from another host):
      // the counts are HTML labels on the rendered clusters.
      map.on("idle", () => labelClusters(map));
    }
  }

  let clusterLabels = [];
  function labelClusters(map) {
    clusterLabels.forEach((marker) => marker.remove());
    clusterLabels = [];
    const seen = new Set();
    for (const feature of map.queryRenderedFeatures({ layers: ["clusters"] })) {
      const key = feature.properties.cluster_id + "/" + feature.geometry.coordinates.join(",");
      if (seen.has(key)) continue;
      seen.add(key);
      const label = element("div", {
        className: "cluster-label",
        textContent: feature.properties.point_count_abbreviated,
      });
      clusterLabels.push(
        new maplibregl.Marker({ element: label }).setLngLat(feature.geometry.coordinates).addTo(map),
      );
    }
  }

  function refreshTiles() {
    const source = state.map.getSource(SOURCE);
    if (!source) return;
    state.tileVersion += 1;
    source.setTiles(state.tiles.map(versioned));
  }

  // --- Popups -------------------------------------------------------------------------
  async function showPlace(id, lngLat) {
    const popup = new maplibregl.Popup({ maxWidth: "260px" })
      .setLngLat(lngLat)
      .setDOMContent(element("div", { className: "place-popup", textContent: "Loading…" }))
      .addTo(state.map);
    let content;
    try {
      const response = await fetch(`${config.detailUrl}${encodeURIComponent(id)}`);
      if (!response.ok) throw new Error(response.status === 404 ? "This place is no longer on the map." : `HTTP ${response.status}`);
      const place = (await response.json()).properties;
      const photo = (place.images || []).find((image) => image.thumbnail_url);
      content = element(
        "div",
        { className: "place-popup" },
        element("h2", { textContent: place.name }),
        element("div", { className: "category", textContent: config.categories[place.category] || place.category }),
        place.description ? element("p", { textContent: place.description }) : null,
        photo ? element("img", { src: photo.thumbnail_url, alt: `Photo of ${place.name}` }) : null,
      );
    } catch (error) {
      content = element("div", { className: "place-popup", textContent: `Could not load the place: ${error.message}` });
    }
    popup.setDOMContent(content);
  }

  function bindClicks(map) {
    map.on("click", "clusters", (event) => {
      const feature = event.features[0];
      // Clusters are cells of 1/8 of a tile: two zooms in splits one into 16.
      const zoom = Math.min(Math.floor(map.getZoom()) + 2, config.clusterMaxZoom + 1);
      map.easeTo({ center: feature.geometry.coordinates, zoom });
    });
    map.on("click", "place-points", (event) => {
      const feature = event.features[0];
      showPlace(feature.properties.id, feature.geometry.coordinates);
    });
    for (const layer of ["clusters", "place-points"]) {
      map.on("mouseenter", layer, () => { map.getCanvas().style.cursor = "pointer"; });
      map.on("mouseleave", layer, () => { map.getCanvas().style.cursor = ""; });
    }
  }

  // --- Search -------------------------------------------------------------------------
  async function search(q) {
    const statusLine = document.getElementById("search-status");
    const list = document.getElementById("search-results");
    list.replaceChildren();
    statusLine.textContent = "Searching…";
    const centre = state.map.getCenter().wrap();
    const near = new URLSearchParams({
      q, lat: centre.lat.toFixed(6), lon: centre.lng.toFixed(6), radius: "50000", limit: "20",
    });
    try {
      let body = await (await fetchOk(`${config.searchUrl}?${near}`)).json();
      let where = "within 50 km of the map centre";
      if (!body.features.length) {
        body = await (await fetchOk(`${config.searchUrl}?${new URLSearchParams({ q, limit: "20" })}`)).json();
        where = "anywhere";
      }
      statusLine.textContent = body.features.length
        ? `${body.features.length} found ${where}.`
        : "Nothing found.";
      for (const feature of body.features) {
        const props = feature.properties;
        const button = element("button", { type: "button", textContent: props.name });
        button.addEventListener("click", () => {
          state.map.flyTo({ center: feature.geometry.coordinates, zoom: Math.max(state.map.getZoom(), config.clusterMaxZoom + 2) });
          showPlace(props.id, feature.geometry.coordinates);
        });
        const category = config.categories[props.category] || props.category;
        const distance = props.distance_m != null ? `, ${(props.distance_m / 1000).toFixed(1)} km` : "";
        list.append(element("li", { className: "search-result" }, button, " ", element("small", { textContent: category + distance })));
      }
    } catch (error) {
      statusLine.textContent = `Search failed: ${error.message}`;
    }
  }

  async function fetchOk(url) {
    const response = await fetch(url);
    if (!response.ok) {
      let detail = `HTTP ${response.status}`;
      try { detail = (await response.json()).detail || detail; } catch (_) { /* not JSON */ }
      throw new Error(detail);
    }
    return response;
  }

  // --- Live feed ----------------------------------------------------------------------
  function viewportBBox() {
    const bounds = state.map.getBounds();
    let west = bounds.getWest();
    let east = bounds.getEast();
    if (east - west >= 360) {
      west = -180;
      east = 180;
    } else {
      const wrap = (lon) => ((((lon + 180) % 360) + 360) % 360) - 180;
      west = wrap(west);
      east = wrap(east);
      if (east === -180) east = 180;
    }
    const clamp = (lat) => Math.max(-90, Math.min(90, lat));
    return [west, clamp(bounds.getSouth()), east, clamp(bounds.getNorth())].map((v) => Number(v.toFixed(6)));
  }

  let refreshTimer = null;
  let retryDelay = 1000;
  function connectFeed() {
    const statusLine = document.getElementById("live-status");
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${window.location.host}${config.feedPath}?bbox=${viewportBBox().join(",")}`);
    state.socket = socket;
    socket.addEventListener("open", () => {
      retryDelay = 1000;
      statusLine.dataset.state = "live";
      statusLine.textContent = "Live updates: on";
    });
    socket.addEventListener("message", (message) => {
      const event = JSON.parse(message.data);
      if (!event.type || !event.type.startsWith("location.")) return;
      state.events.push(event);
      if (event.type === "location.approved" && event.feature) {
        toast(`New place: ${event.feature.properties.name}`);
      }
      // A burst of decisions refreshes the tiles once.
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(refreshTiles, 250);
    });
    socket.addEventListener("close", () => {
      statusLine.dataset.state = "offline";
      statusLine.textContent = "Live updates: reconnecting…";
      setTimeout(connectFeed, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    });
  }

  let subscribeTimer = null;
  function subscribeToViewport() {
    clearTimeout(subscribeTimer);
    subscribeTimer = setTimeout(() => {
      if (state.socket && state.socket.readyState === WebSocket.OPEN) {
        state.socket.send(JSON.stringify({ type: "subscribe", bbox: viewportBBox() }));
      }
    }, 300);
  }

  let toastTimer = null;
  function toast(text) {
    const box = document.getElementById("toast");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { box.hidden = true; }, 4000);
  }

  // --- Start --------------------------------------------------------------------------
  async function start() {
    const [style, tilejson] = await Promise.all([
      loadStyle(),
      fetchOk(config.tilejsonUrl).then((response) => response.json()),
    ]);
    const [lon, lat, zoom] = tilejson.center;
    const map = new maplibregl.Map({
      container: "map",
      style,
      center: [lon, lat],
      zoom,
      hash: true,
      attributionControl: config.styleUrl ? { compact: true } : false,
    });
    state.map = map;
    map.addControl(new maplibregl.NavigationControl(), "top-right");
    map.on("load", () => {
      addPlaceLayers(map, tilejson, Boolean(map.getStyle().glyphs));
      bindClicks(map);
      connectFeed();
      map.on("moveend", subscribeToViewport);
    });
    document.getElementById("search").addEventListener("submit", (event) => {
      event.preventDefault();
      const q = document.getElementById("search-q").value.trim();
      if (q) search(q);
    });
  }

  start().catch((error) => {
    console.error("The map could not start:", error);
    document.getElementById("live-status").textContent = `The map could not start: ${error.message}`;
  });
})();
