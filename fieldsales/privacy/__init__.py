"""The data's life (docs/privacy.md): how long each kind is kept (`retention`), what erasing a
person removes (`erasure`), and everything of a rep's they can take away (`export`)."""
