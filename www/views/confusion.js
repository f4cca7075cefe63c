// The confusion matrix: rows are true classes, columns predicted ones, each cell shaded by its
// share of the row. The counts come from the core.

export class ConfusionView {
  constructor(root) {
    this.root = root;
  }

  // counts: classes × classes, row-major by true class.
  render(counts, classes, title = 'Confusion matrix on the test set (rows: true class, columns: predicted)') {
    const table = document.createElement('table');
    table.className = 'confusion';
    const caption = document.createElement('caption');
    caption.textContent = title;
    const head = document.createElement('tr');
    head.append(document.createElement('th'), ...Array.from({ length: classes }, (_, c) => {
      const th = document.createElement('th');
      th.textContent = c;
      return th;
    }));
    const rows = Array.from({ length: classes }, (_, t) => {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      th.textContent = t;
      const row = counts.slice(t * classes, (t + 1) * classes);
      const total = Math.max(1, row.reduce((a, b) => a + b, 0));
      tr.append(th, ...row.map((n, p) => {
        const td = document.createElement('td');
        td.textContent = n;
        const share = n / total;
        td.style.background = p === t ? `rgba(31, 136, 61, ${share})` : `rgba(207, 34, 46, ${Math.min(1, 4 * share)})`;
        if (share > 0.6) td.style.color = '#fff';
        return td;
      }));
      return tr;
    });
    table.append(caption, head, ...rows);
    this.root.replaceChildren(table);
  }
}
