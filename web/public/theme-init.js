// Applies the saved theme before the first paint (a separate file: the page's CSP allows no inline script).
try {
  var t = localStorage.getItem('callwright.theme');
  if (t === 'light' || t === 'dark') document.documentElement.dataset.theme = t;
} catch (e) {}
