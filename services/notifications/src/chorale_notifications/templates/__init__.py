"""Message templates (`string.Template`): `<name>.txt` is the subject on its first line, then
the plain-text body; `<name>.html` is the HTML body, set inside `_layout.html`. Every value is
HTML-escaped before it goes into HTML."""
