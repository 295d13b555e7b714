// Loaded by the pages with a print button (the notice, the year's summary).

// "Print this notice": a button only where script can print; otherwise the page says Ctrl+P.
// A phone has no Ctrl+P: where the button shows, the sentence naming it goes.
document.querySelectorAll('[data-app-print]').forEach((button) => {
  button.hidden = false
  button.addEventListener('click', () => window.print())
  document.querySelectorAll('[data-app-print-fallback]').forEach((words) => {
    words.hidden = true
  })
})
