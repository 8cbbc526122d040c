// Loaded on the pages that show widgets, after require.js and before the widget
// manager (vendor/html-manager/embed-amd.js); see nb_ipywidgets_js in _config.yml.
// Three jobs: the widget manager's fonts, MathJax 3 for its labels, and a note
// under every widget that no Python runs on this website.
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

  // 3. On this website no Python runs behind a widget: it shows the view the
  //    notebook saved, and its controls do nothing. Under every widget, a note
  //    says so and links the chapter's Colab and Binder launch buttons (the rocket
  //    menu); when the reader presses one of its controls, the note says that the
  //    control needs a running Python and stands out.
  var NOTE = "widget-frozen-note";

  function launchLinks() {
    var links = [];
    [["Colab", "colab.research.google.com"], ["Binder", "mybinder.org"]].forEach(function (pair) {
      var button = document.querySelector('.dropdown-launch-buttons a[href*="' + pair[1] + '"]');
      if (button) {
        links.push([pair[0], button.href]);
      }
    });
    return links;
  }

  function addNotes() {
    var links = launchLinks();
    var views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]');
    Array.prototype.forEach.call(views, function (script) {
      var output = script.closest(".cell_output") || script.parentElement;
      if (output.querySelector("." + NOTE)) {
        return;
      }
      var note = document.createElement("p");
      note.className = NOTE;
      note.setAttribute("role", "status");            // screen readers hear the change
      note.appendChild(document.createTextNode(
        "A frozen copy: on this website no Python runs behind this widget, so its " +
        "controls do nothing. To use it, open this chapter "));
      links.forEach(function (link, i) {
        if (i > 0) {
          note.appendChild(document.createTextNode(" or "));
        }
        var a = document.createElement("a");
        a.href = link[1];
        a.target = "_blank";
        a.rel = "noopener";
        a.textContent = "on " + link[0];
        note.appendChild(a);
      });
      note.appendChild(document.createTextNode(links.length
        ? ", or run the notebook on your machine."
        : "as a notebook, on Colab, on Binder or on your machine."));
      output.appendChild(note);
    });
  }

  function onPress(event) {
    if (event.type === "keydown" && (event.key === "Tab" || event.key === "Shift")) {
      return;                                          // moving through the page
    }
    var target = event.target;
    var view = target && target.closest && target.closest(".widget-subarea, .jupyter-widgets");
    var output = view && view.closest(".cell_output");
    var note = output && output.querySelector("." + NOTE);
    if (!note || note.classList.contains(NOTE + "--pressed")) {
      return;
    }
    note.classList.add(NOTE + "--pressed");
    var first = document.createElement("strong");
    first.textContent = "That control needs a running Python. ";
    note.insertBefore(first, note.firstChild);
    note.scrollIntoView({block: "nearest"});
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", addNotes);
  } else {
    addNotes();
  }
  ["pointerdown", "keydown", "input", "change"].forEach(function (type) {
    document.addEventListener(type, onPress, true);    // before the widget's own handlers
  });
})();
