/* Progressive enhancement only: every link and form works without this file. */
(function () {
  "use strict";
  /* the timeline opens on its most recent years when it is wider than the screen */
  Array.prototype.forEach.call(document.querySelectorAll(".timeline-scroll"), function (box) {
    box.scrollLeft = box.scrollWidth;
  });
  var nav = document.querySelector("nav.tabs");
  if (!nav || !nav.querySelector("a[data-tab]") || !document.querySelector("[data-panel]")) return;
  var panels = Array.prototype.slice.call(document.querySelectorAll("[data-panel]"));
  var links = Array.prototype.slice.call(nav.querySelectorAll("a[data-tab]"));
  var strip = nav.querySelector("ul");
  var more = nav.querySelector("details.tabs-more");

  /* a jump to a section stops below the sticky bar, whatever its height */
  function measure() {
    document.documentElement.style.setProperty("--tabs-height", nav.offsetHeight + "px");
  }
  /* on a phone the strip scrolls sideways: keep the selected tab in view */
  function reveal() {
    var current = strip.querySelector("a[aria-current]");
    if (!current || strip.scrollWidth <= strip.clientWidth) return;
    var left = current.offsetLeft - strip.offsetLeft;
    if (left < strip.scrollLeft || left + current.offsetWidth > strip.scrollLeft + strip.clientWidth) {
      strip.scrollLeft = left - (strip.clientWidth - current.offsetWidth) / 2;
    }
  }
  measure();
  reveal();
  window.addEventListener("resize", measure);

  function show(tab, focus) {
    panels.forEach(function (p) { p.hidden = !!tab && p.getAttribute("data-panel") !== tab; });
    links.forEach(function (a) {
      if (a.getAttribute("data-tab") === tab) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    });
    Array.prototype.forEach.call(strip.querySelectorAll("li.foldable"), function (li) {
      li.classList.toggle("selected", !!li.querySelector("a[aria-current]"));
    });
    if (more) more.open = false;
    reveal();
    var target = document.getElementById(tab || "basic");
    if (focus && target) {
      target.setAttribute("tabindex", "-1");
      target.focus({ preventScroll: true });
      target.scrollIntoView({ block: "start" });
    }
  }

  links.forEach(function (a) {
    a.addEventListener("click", function (ev) {
      if (ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.button !== 0) return;
      ev.preventDefault();
      var tab = a.getAttribute("data-tab");
      var url = new URL(a.href);
      history.pushState({ tab: tab }, "", url.pathname + url.search + url.hash);
      show(tab, true);
    });
  });
  window.addEventListener("popstate", function () {
    show(new URLSearchParams(location.search).get("tab") || "", false);
  });
})();
