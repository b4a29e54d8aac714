// Context of docs/types.md's snippets: each is whole.
