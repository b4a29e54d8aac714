// The README's snippet is a whole program: no context.
