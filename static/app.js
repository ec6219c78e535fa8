// Small progressive enhancements; every page works without this file.
// Kept out of the HTML because the Content-Security-Policy forbids inline script.
document.addEventListener("DOMContentLoaded", () => {
  // Send the CSRF token with every htmx request, from the page's sign-out form.
  const token = document.querySelector('input[name="csrf"]');
  if (token) {
    document.body.addEventListener("htmx:configRequest", (event) => {
      event.detail.headers["X-CSRF-Token"] = token.value;
    });
  }
  // Ask before buttons marked data-confirm do something that cannot be undone.
  document.querySelectorAll("[data-confirm]").forEach((el) => {
    el.addEventListener("click", (event) => {
      if (!window.confirm(el.getAttribute("data-confirm"))) event.preventDefault();
    });
  });
});
