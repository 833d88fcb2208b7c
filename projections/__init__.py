"""Read models, each named for the question it answers; built only from `EventRecord`s."""
