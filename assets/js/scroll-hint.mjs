// Loaded by the pages with a table that may scroll sideways (the rota's week).

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
