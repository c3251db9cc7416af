// Draws the dashboard's charts from the JSON block the server wrote beside
// the tables, so the charts show exactly the figures in the tables. Amounts
// arrive as exact decimal strings; they become numbers here only to be
// drawn.
(function () {
  'use strict';
  var el = document.getElementById('dashboard-data');
  if (!el || typeof Chart === 'undefined') { return; }
  var d = JSON.parse(el.textContent);
  var num = function (s) { return s === null || s === undefined ? null : Number(s); };
  var gbp = function (v) { return '£' + Number(v).toLocaleString('en-GB', { maximumFractionDigits: 0 }); };
  Chart.defaults.animation = false; // charts are read and printed, not watched
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  var money = { y: { beginAtZero: true, ticks: { callback: gbp } } };
  var colours = { budget: '#94a3b8', committed: '#2563eb', spent: '#16a34a', plan: '#94a3b8', baseline: '#9ca3af', target: '#d97706' };

  var programmes = document.getElementById('chart-programmes');
  if (programmes) {
    var groups = d.programmes.groups;
    new Chart(programmes, {
      type: 'bar',
      data: {
        labels: groups.map(function (g) { return g.code || g.name; }),
        datasets: [
          { label: 'Budget', data: groups.map(function (g) { return num(g.budget); }), backgroundColor: colours.budget },
          { label: 'Committed', data: groups.map(function (g) { return num(g.committed); }), backgroundColor: colours.committed },
          { label: 'Spent', data: groups.map(function (g) { return num(g.spent); }), backgroundColor: colours.spent }
        ]
      },
      options: { scales: money }
    });
  }

  var cumulative = document.getElementById('chart-cumulative');
  if (cumulative) {
    new Chart(cumulative, {
      type: 'line',
      data: {
        labels: d.months.map(function (m) { return m.month; }),
        datasets: [
          { label: 'Approved spend to date', data: d.months.map(function (m) { return num(m.cumulative); }), borderColor: colours.spent, backgroundColor: colours.spent },
          { label: 'Budget spread evenly', data: d.months.map(function (m) { return num(m.plan); }), borderColor: colours.plan, borderDash: [6, 4], pointRadius: 0 }
        ]
      },
      options: { scales: money }
    });
  }

  d.value_for_money.outcomes.forEach(function (o, i) {
    var canvas = document.getElementById('chart-indicator-' + i);
    if (!canvas) { return; }
    var labels = o.series.map(function (m) { return m.period_end; });
    var flat = function (v) { return labels.map(function () { return num(v); }); };
    var sets = [{ label: o.indicator.name, data: o.series.map(function (m) { return num(m.value); }), borderColor: colours.committed, backgroundColor: colours.committed }];
    if (o.indicator.baseline_value !== null) {
      sets.push({ label: 'Baseline', data: flat(o.indicator.baseline_value), borderColor: colours.baseline, borderDash: [4, 4], pointRadius: 0 });
    }
    if (o.indicator.target_value !== null) {
      sets.push({ label: 'Target', data: flat(o.indicator.target_value), borderColor: colours.target, borderDash: [2, 2], pointRadius: 0 });
    }
    new Chart(canvas, { type: 'line', data: { labels: labels, datasets: sets } });
  });
  document.body.setAttribute('data-charts', 'drawn');
}());
