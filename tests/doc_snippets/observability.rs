// Context of docs/observability.md's snippets: an engine (and a session), as the default
// parameters give them.
use athanor::prelude::*;
