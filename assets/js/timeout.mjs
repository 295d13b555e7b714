// Loaded by every page for a signed-in user (base.html).

// GOV.UK's timeout warning: a modal dialog before the idle time-out signs the session out.
// "Stay signed in" asks the server (any request restarts its idle time); once the time is up
// the dialog says so, and what is on the page stays for the server to keep when it is sent.
const timeout = document.querySelector('[data-app-timeout]')
if (timeout && typeof timeout.showModal === 'function') {
  const LONGEST_TIMER = 2147483647 // ms: a longer setTimeout fires at once
  const idle = Number(timeout.dataset.idleTimeoutSeconds) * 1000
  const warnBefore = Math.min(2 * 60 * 1000, idle / 2)
  const warning = timeout.querySelector('[data-app-timeout-warning]')
  const ended = timeout.querySelector('[data-app-timeout-ended]')
  const countdown = timeout.querySelector('[data-app-timeout-countdown]')
  const stay = warning.querySelector('form')
  let timers = []
  let deadline = 0
  let state = 'idle'

  const wording = (ms) => {
    const seconds = Math.max(0, Math.ceil(ms / 1000))
    const minutes = Math.floor(seconds / 60)
    const rest = seconds % 60
    const parts = []
    if (minutes) parts.push(minutes === 1 ? '1 minute' : `${minutes} minutes`)
    if (rest || !minutes) parts.push(rest === 1 ? '1 second' : `${rest} seconds`)
    return parts.join(' ')
  }

  const clear = () => {
    timers.forEach((timer) => clearTimeout(timer))
    timers = []
  }

  const show = (part) => {
    warning.hidden = part !== warning
    ended.hidden = part !== ended
    if (!timeout.open) timeout.showModal()
    part.querySelector('h2').focus()
  }

  const tick = () => {
    countdown.textContent = wording(deadline - Date.now())
    if (state === 'warning') timers.push(setTimeout(tick, 1000))
  }

  const warn = () => {
    state = 'warning'
    show(warning)
    tick()
  }

  const end = () => {
    clear()
    state = 'ended'
    show(ended)
  }

  const start = () => {
    clear()
    state = 'idle'
    deadline = Date.now() + idle
    if (idle > LONGEST_TIMER || !(idle > 0)) return
    timers.push(setTimeout(warn, idle - warnBefore))
    timers.push(setTimeout(end, idle))
  }

  const stayIn = async () => {
    let answer = null
    try {
      answer = await fetch(stay.action, {
        method: 'POST',
        body: new FormData(stay),
        credentials: 'same-origin',
        redirect: 'manual'
      })
    } catch (error) {
      answer = null
    }
    if (answer && answer.status === 204) {
      timeout.close()
      start()
    } else {
      end() // signed out already (a redirect to sign in), or the server could not be reached
    }
  }

  stay.addEventListener('submit', (event) => {
    event.preventDefault()
    stayIn()
  })
  timeout.querySelector('[data-app-timeout-close]').addEventListener('click', () => {
    timeout.close()
  })
  // Escape: "stay signed in" while warning (as GOV.UK's pattern does), else just close.
  timeout.addEventListener('cancel', (event) => {
    if (state === 'warning') {
      event.preventDefault()
      stayIn()
    }
  })
  start()
}
