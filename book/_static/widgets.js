// Loaded on the pages that show widgets, after require.js and before the widget
// manager (vendor/html-manager/embed-amd.js); see nb_ipywidgets_js in _config.yml.
(function () {
  "use strict";
  // 1. The widget manager's stylesheet asks for its icon fonts next to the module
  //    "@jupyter-widgets/html-manager/dist/libembed-amd", which require.js would
  //    place under the page's own folder. Point that module at the vendored copy.
  var here = document.currentScript.src;   // .../_static/widgets.js?v=...
  require.config({
    paths: {
      "@jupyter-widgets/html-manager/dist": new URL("vendor/html-manager", here).href,
    },
  });

  // 2. The widget manager typesets labels with MathJax 2's API,
  //    MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]); the site loads
  //    MathJax 3, which has no Hub. Forward those calls to MathJax 3. MathJax is
  //    loaded with "defer", so it is there by the time the "load" event fires,
  //    which is when the widget manager renders. On pages without math it is not
  //    loaded at all and the widget manager skips typesetting; if it failed to
  //    load, window.MathJax is only its configuration, and the labels stay as text.
  window.addEventListener("load", function () {
    var mathjax = window.MathJax;
    if (!mathjax || mathjax.Hub) {
      return;
    }
    mathjax.Hub = {
      Queue: function (job) {
        if (typeof mathjax.typesetPromise !== "function") {
          return;
        }
        var element = Array.isArray(job) ? job[2] : undefined;
        mathjax.startup.promise = mathjax.startup.promise
          .then(function () { return mathjax.typesetPromise(element ? [element] : undefined); })
          .catch(function (error) { console.error("MathJax could not typeset a widget:", error); });
      },
    };
  });
})();
