// The tower's order page: reset the one-time code through the orders API, then reload so the
// page shows the fresh count of tries (the code itself is only on the customer's tracking page).
const form = document.querySelector("[data-testid=delivery-code-reset]");

if (form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    const error = form.querySelector("[data-testid=delivery-code-reset-error]");
    button.disabled = true;
    error.textContent = "";
    try {
      const response = await fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": form.querySelector("input[name=csrfmiddlewaretoken]").value },
      });
      if (response.ok) {
        window.location.reload();
        return;
      }
      const body = await response.json().catch(() => ({}));
      error.textContent = body.message || "The code could not be reset.";
    } catch {
      error.textContent = "No connection; try again.";
    }
    button.disabled = false;
  });
}
