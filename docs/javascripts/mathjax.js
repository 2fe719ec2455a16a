// MathJax 3 configuration for pymdownx.arithmatex (generic mode) and for the
// markdown cells of the rendered notebooks, which keep Jupyter's $...$ math.
// Everything else on a page is left alone. MathJax itself ships with the site
// (javascripts/mathjax/, see docs/hooks_mathjax.py): no network needed.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"], ["$", "$"]],
    displayMath: [["\\[", "\\]"], ["$$", "$$"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    // Skip every element that has a class (so the whole Material page), except
    // arithmatex spans/divs and notebook markdown cells; ".+" rather than
    // Material's ".*|", so that the class-less <p> inside a notebook cell stays
    // processed.
    ignoreHtmlClass: ".+",
    processHtmlClass: "arithmatex|jp-MarkdownOutput",
  },
  // One set of glyph paths per page instead of one per formula.
  svg: { fontCache: "global" },
};

// Material for MkDocs can swap page content without a reload: typeset again.
if (typeof document$ !== "undefined") {
  document$.subscribe(() => {
    if (window.MathJax && MathJax.typesetPromise) {
      MathJax.startup.output.clearCache();
      MathJax.typesetClear();
      MathJax.texReset();
      MathJax.typesetPromise();
    }
  });
}
