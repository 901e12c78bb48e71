"""The pure statistical core: numpy and the standard library only, time passed in.

Everything that turns bucketed history into recommendations lives here, so it can be tested
without servers and reasoned about without I/O. ``slis`` holds one module per SLI kind;
``explain`` turns the evidence into words.
"""
