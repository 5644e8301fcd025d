// The warning before the idle sign-out (templates/base.html, #idle-warning). The server ends a
// session after a time without requests; this page knows how long it has left (data-seconds-left).
// Typing or clicking on the page tells the server, once, when the warning would come, so
// nobody working on a long form is signed out; otherwise the warning shows, takes the focus, and
// "Stay signed in" asks the server to keep the session. Once it has ended, coming back to the page
// after signing in again in another tab gives the page's forms the new session's CSRF token, so
// what was typed is sent as it is. No inline script (the CSP forbids it); the texts come
// translated in data- attributes.
(function () {
  "use strict";
  var box = document.getElementById("idle-warning");
  if (!box || !window.fetch) {
    return;
  }
  var message = document.getElementById("idle-message");
  var stay = document.getElementById("idle-stay");
  var signIn = document.getElementById("idle-sign-in");
  var back = document.getElementById("idle-back");
  var warning = Number(box.dataset.warning) * 1000;
  var endsAt = Date.now() + Number(box.dataset.secondsLeft) * 1000;
  var toldAt = Date.now(); // the server was last asked for this page
  var activeAt = 0;
  var timer = null;
  var returnFocus = null;

  function later(run, delay) {
    window.clearTimeout(timer);
    timer = window.setTimeout(run, Math.max(0, delay));
  }

  function minutesLeft() {
    return Math.max(1, Math.ceil((endsAt - Date.now()) / 60000));
  }

  function warn() {
    if (activeAt > toldAt) {
      keepAlive(false); // working on the page: no need to ask
      return;
    }
    back.hidden = true; // the warning takes its place
    message.textContent = box.dataset.textWarning.replace("{minutes}", minutesLeft());
    if (box.hidden) {
      returnFocus = document.activeElement;
      box.hidden = false;
      stay.focus();
    }
    later(ended, endsAt - Date.now() + 1000); // a second after the server's end: true when said
  }

  function ended() {
    message.textContent = box.dataset.textEnded;
    stay.hidden = true;
    signIn.hidden = false;
    box.hidden = false;
    signIn.focus();
    window.addEventListener("focus", signedInAgain);
    document.addEventListener("visibilitychange", signedInAgain);
  }

  // Back on this page: if the user has signed in again (in another tab, same cookies), the forms
  // take the new session's token; otherwise nothing changes and the next return asks again.
  function signedInAgain() {
    if (document.visibilityState === "hidden") {
      return;
    }
    fetch(box.dataset.tokenUrl, {
      credentials: "same-origin",
      redirect: "manual",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("still signed out");
        }
        return response.json();
      })
      .then(function (answer) {
        window.removeEventListener("focus", signedInAgain);
        document.removeEventListener("visibilitychange", signedInAgain);
        document.querySelectorAll('input[name="csrf_token"]').forEach(function (input) {
          input.value = answer.csrf_token;
        });
        box.dataset.csrf = answer.csrf_token;
        stay.hidden = false;
        signIn.hidden = true;
        back.textContent = box.dataset.textBack;
        back.hidden = false;
        kept(answer.seconds_left);
      })
      .catch(function () {});
  }

  function kept(secondsLeft) {
    toldAt = Date.now();
    endsAt = toldAt + secondsLeft * 1000;
    if (!box.hidden) {
      box.hidden = true;
      if (returnFocus && returnFocus.focus) {
        returnFocus.focus();
      }
    }
    later(warn, endsAt - warning - Date.now());
  }

  function keepAlive() {
    fetch(box.dataset.url, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual", // a session already ended answers with the sign-in page
      headers: { "X-CSRFToken": box.dataset.csrf, Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("session ended");
        }
        return response.json();
      })
      .then(function (answer) {
        kept(answer.seconds_left);
      })
      .catch(ended);
  }

  ["keydown", "input", "pointerdown"].forEach(function (name) {
    document.addEventListener(
      name,
      function () {
        activeAt = Date.now();
      },
      { passive: true, capture: true },
    );
  });
  stay.addEventListener("click", keepAlive);
  later(warn, endsAt - warning - Date.now());
})();
