/* « Copier » buttons (the portal's only script; the page works without it: the button stays
   hidden and the text can be selected by hand). <button data-copie="ID"> copies the text of
   the element ID and says so in the live region named by data-statut. */
(function () {
  "use strict";
  function say(button, message) {
    var status = document.getElementById(button.getAttribute("data-statut"));
    if (status) { status.textContent = message; }
  }
  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  document.querySelectorAll("button[data-copie]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copie"));
    if (!source) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = source.textContent.trim();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () {
          say(button, "Copié dans le presse-papiers.");
        }, function () {
          selectText(source);
          say(button, "Copie automatique impossible : le texte est sélectionné, copiez-le (Ctrl+C).");
        });
      } else {
        selectText(source);
        say(button, "Copie automatique impossible : le texte est sélectionné, copiez-le (Ctrl+C).");
      }
    });
  });
}());
