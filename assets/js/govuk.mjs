// GOV.UK Frontend's scripts for the components the pages use, and no others (assets/build.mjs
// bundles this with only what these need). Every page loads it: each has the skip link, and a
// signed-in page the service navigation, whose menu button works by script on a narrow screen.
// A page that starts using another component with a script (data-module="govuk-...") adds it
// here: tests/test_page_weight.py checks the list against the templates.
import {
  Button,
  Checkboxes,
  createAll,
  ErrorSummary,
  isSupported,
  NotificationBanner,
  PasswordInput,
  Radios,
  ServiceNavigation,
  SkipLink
} from 'govuk-frontend'

if (isSupported()) {
  for (const Component of [
    Button,
    Checkboxes,
    ErrorSummary,
    NotificationBanner,
    PasswordInput,
    Radios,
    ServiceNavigation,
    SkipLink
  ]) {
    createAll(Component)
  }
}
