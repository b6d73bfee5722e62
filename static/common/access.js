// What a page does when the server closes its socket because the user's access ended
// (accounts/sockets.py): the socket must not reconnect, since the server would refuse it again.
//   4401 not signed in any more (logout, deactivation, session ended): go to the login page.
//   4403 signed in, but the role or organization no longer allows this page: say so and stop.
export const NOT_AUTHENTICATED = 4401;
export const FORBIDDEN = 4403;
const LOGIN_URL = "/login/"; // accounts/urls.py

// Answers true when `event` (a socket's close event) ended access; the caller stops reconnecting.
export function accessEnded(event) {
  if (event.code === NOT_AUTHENTICATED) {
    const next = window.location.pathname + window.location.search;
    window.location.assign(`${LOGIN_URL}?next=${encodeURIComponent(next)}`);
    return true;
  }
  if (event.code === FORBIDDEN) {
    showAccessChanged();
    return true;
  }
  return false;
}

function showAccessChanged() {
  if (document.querySelector("[data-testid=access-changed]")) return;
  const banner = document.createElement("p");
  banner.className = "access-banner";
  banner.setAttribute("role", "alert");
  banner.dataset.testid = "access-changed";
  banner.textContent = "Your access changed: this page no longer updates. Reload it or ask an admin.";
  (document.querySelector("main") || document.body).prepend(banner);
}
