import { initAll } from './govuk/govuk-frontend.min.js'

initAll()

// "Print this notice": a button only where script can print; otherwise the page says Ctrl+P.
document.querySelectorAll('[data-app-print]').forEach((button) => {
  button.hidden = false
  button.addEventListener('click', () => window.print())
})
