import { initAll } from './govuk/govuk-frontend.min.js'

initAll()

// "Print this notice": a button only where script can print; otherwise the page says Ctrl+P.
// A phone has no Ctrl+P: where the button shows, the sentence naming it goes.
document.querySelectorAll('[data-app-print]').forEach((button) => {
  button.hidden = false
  button.addEventListener('click', () => window.print())
  document.querySelectorAll('[data-app-print-fallback]').forEach((words) => {
    words.hidden = true
  })
})

// A region that scrolls sideways: its hint shows only while there is more to scroll to.
document.querySelectorAll('[data-app-scroll-hint]').forEach((hint) => {
  const region = document.getElementById(hint.dataset.appScrollHint)
  if (!region) return
  const update = () => {
    hint.hidden = region.scrollWidth <= region.clientWidth
  }
  // The table grows with a larger text size, the region with the window.
  const observer = new ResizeObserver(update)
  observer.observe(region)
  if (region.firstElementChild) observer.observe(region.firstElementChild)
})
