// Exercise solutions on the notebook pages: every cell tagged "solution" (see the notebooks' Exercises)
// is folded into a <details> element whose summary names it, so the reader opens it on click.
(() => {
  const fold = () => {
    let count = 0;
    for (const cell of document.querySelectorAll(".jp-Cell.celltag_solution")) {
      if (cell.parentElement.closest(".celltag_solution")) continue;  // the template nests a cell in a cell
      count += 1;
      const found = (cell.innerText || "").match(/Solution \d+/);
      const details = document.createElement("details");
      details.className = "solution";
      const summary = document.createElement("summary");
      summary.textContent = `${found ? found[0] : `Solution ${count}`} (click to open)`;
      cell.parentNode.insertBefore(details, cell);
      details.appendChild(summary);
      details.appendChild(cell);
    }
  };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", fold);
  } else {
    fold();
  }
})();
