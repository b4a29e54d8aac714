//! Engine URLs: `scheme[+driver]://[user[:password]@]host[:port]/database?option=value&…`.
//!
//! Parsing is database-neutral; which options a backend understands is the backend's business,
//! and the engine's own options (`pool_size`, `pool_timeout`, `echo`, `isolation_level`) are read
//! by [`crate::EngineConfig`].

use crate::error::{Error, Result};

/// The URL options the engine reads itself ([`crate::EngineConfig::from_options`]); every other
/// option belongs to the backend, which sees them through [`ConnectOptions::backend_options`].
pub const ENGINE_OPTIONS: &[&str] = &[
    "pool_size",
    "pool_timeout",
    "pool_pre_ping",
    "echo",
    "hide_parameters",
    "slow_statement",
    "isolation_level",
    "write_intent",
    // Read replicas (docs/scaling.md): the facade's `create_engine` reads `replicas`.
    "replicas",
    "replica_backoff",
    "replica_wait",
    // Applied by every backend at connect ([`crate::Timeouts`]).
    "statement_timeout",
    "lock_timeout",
];

/// A parsed engine URL. Its `Debug` output masks the password (in `url` and `password`).
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// The URL as given (with the password masked by [`ConnectOptions::redacted`]).
    pub url: String,
    /// The scheme without a `+driver` suffix, lower case: `sqlite`, `postgresql`, `mysql` …
    pub scheme: String,
    /// The `+driver` suffix (`psycopg2`, `pymysql`), lower case. Athanor uses its own driver
    /// whatever it says; the facade refuses a name the backend does not list
    /// ([`crate::Backend::drivers`]).
    pub driver_hint: Option<String>,
    /// The user name, percent-decoded.
    pub user: Option<String>,
    /// The password, percent-decoded.
    pub password: Option<String>,
    /// The host; `None` when the URL has no authority (`sqlite:…`).
    pub host: Option<String>,
    /// The port.
    pub port: Option<u16>,
    /// The path after the authority, percent-decoded, without its leading `/`: the database name
    /// for servers, the file path for SQLite (`sqlite:///abs.db` gives `/abs.db`).
    pub database: Option<String>,
    /// The path exactly as written after the scheme (for backends with their own path rules).
    pub raw_path: String,
    /// The query options in order, percent-decoded.
    pub options: Vec<(String, String)>,
}

/// Decode `%XX` escapes in one part of a URL (`what` names the part in the error).
///
/// Unlike the lenient decoding of web browsers, a `%` not followed by two hex digits is an error,
/// so a typo in a password or a path is reported instead of passed on.
///
/// # Errors
/// [`Error::Config`] for a malformed escape or a result that is not UTF-8.
///
/// ```
/// assert_eq!(athanor_core::percent_decode("my%20db.db", "path").unwrap(), "my db.db");
/// assert!(athanor_core::percent_decode("100%", "path").is_err());
/// ```
pub fn percent_decode(s: &str, what: &str) -> Result<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                let byte = hex
                    .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| Error::config(format!("malformed percent-escape in the {what} of the URL")))?;
                out.push(byte);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| Error::config(format!("the {what} of the URL is not valid UTF-8")))
}

/// The parts of an authority (`user:password@host:port`), read with the `url` crate.
struct Authority {
    user: Option<String>,
    password: Option<String>,
    host: Option<String>,
    port: Option<u16>,
}

/// What every error about a URL's user, password or host part adds: how to write the characters
/// that end those parts early.
const ENCODE_HINT: &str =
    "write %40, %3A, %2F, %3F, %23 and %25 for '@', ':', '/', '?', '#' and '%' in a user name or password";

/// `url` with everything that may be a password masked, for error messages and logs: from the
/// first `:` of the text after the scheme (and its `//`) to the *last* `@` of the URL, when
/// there is an `@` after that `:`. This is conservative on purpose: a password holding an
/// unencoded `/`, `?` or `#` ends the authority early and is not where a parser would look
/// for it, but it always lies between the user's `:` and an `@`. (A URL with an `@` in its
/// database name or options and a port shows less than it could, never a password.)
fn redact_url(url: &str) -> String {
    let Some(colon) = url.find(':') else { return url.to_string() };
    let start = colon + 1 + if url[colon + 1..].starts_with("//") { 2 } else { 0 };
    format!("{}{}", &url[..start], mask_userinfo(&url[start..]))
}

/// `s` with the text between its first `:` and its last `@` (when there is an `@` after a `:`)
/// replaced by `***`: `ann:pw@h/db` → `ann:***@h/db`.
fn mask_userinfo(s: &str) -> String {
    let Some(at) = s.rfind('@') else { return s.to_string() };
    match s[..at].find(':') {
        Some(c) => format!("{}:***{}", &s[..c], &s[at..]),
        None => s.to_string(),
    }
}

/// Parse `authority` (`shown` is the whole URL, redacted, for the errors: an error never quotes
/// the authority itself, which holds the password).
fn parse_authority(authority: &str, shown: &str) -> Result<Authority> {
    if authority.contains('#') {
        return Err(Error::config(format!("malformed host part in the URL {shown:?}: a '#' ({ENCODE_HINT})")));
    }
    // A neutral scheme: the `url` crate then checks the authority by the generic rules (no
    // scheme-specific default ports or host normalisation).
    let parsed = ::url::Url::parse(&format!("athanor://{authority}/"))
        .map_err(|e| Error::config(format!("malformed host part in the URL {shown:?}: {e} ({ENCODE_HINT})")))?;
    let user = match parsed.username() {
        "" => None,
        u => Some(percent_decode(u, "user")?),
    };
    let password = match parsed.password() {
        Some(p) => Some(percent_decode(p, "password")?),
        // `user:@host`: an empty password, as written.
        None if authority.rsplit_once('@').is_some_and(|(ui, _)| ui.contains(':')) => Some(String::new()),
        None => None,
    };
    let host = match parsed.host() {
        None => None,
        Some(::url::Host::Domain("")) => None,
        Some(::url::Host::Domain(d)) => Some(percent_decode(d, "host")?),
        Some(::url::Host::Ipv4(a)) => Some(a.to_string()),
        Some(::url::Host::Ipv6(a)) => Some(a.to_string()),
    };
    if host.is_none() && (user.is_some() || password.is_some() || parsed.port().is_some()) {
        return Err(Error::config(format!("the URL {shown:?} names a user or port but no host ({ENCODE_HINT})")));
    }
    Ok(Authority { user, password, host, port: parsed.port() })
}

impl ConnectOptions {
    /// Parse a URL. Fails with [`Error::Config`] when it has no scheme or a malformed authority.
    ///
    /// Two shapes are understood: `scheme://authority/path?options` (the authority checked with
    /// the `url` crate) and `scheme:opaque?options` (SQLite's `sqlite::memory:`); which shapes a
    /// backend accepts is the backend's business (servers call
    /// [`ConnectOptions::require_server_form`]).
    ///
    /// ```
    /// let o = athanor_core::ConnectOptions::parse("postgresql+psycopg2://u:p%40ss@db:5433/app?pool_size=4").unwrap();
    /// assert_eq!(o.scheme, "postgresql");
    /// assert_eq!(o.password.as_deref(), Some("p@ss"));
    /// assert_eq!(o.port, Some(5433));
    /// assert_eq!(o.database.as_deref(), Some("app"));
    /// assert_eq!(o.option("pool_size"), Some("4"));
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] naming what is wrong: no or a bad scheme, a malformed authority (bad
    /// port, user without host, a character not allowed in a host), a malformed percent-escape.
    pub fn parse(url: &str) -> Result<Self> {
        let url = url.trim();
        let colon = url.find(':').ok_or_else(|| Error::config(format!("not a URL (no scheme): {url:?}")))?;
        let full_scheme = &url[..colon];
        if full_scheme.is_empty()
            || !full_scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.' | '_'))
        {
            return Err(Error::config(format!("not a URL (bad scheme {full_scheme:?})")));
        }
        let lower = full_scheme.to_ascii_lowercase();
        let (scheme, driver_hint) = match lower.split_once('+') {
            Some((s, d)) => (s.to_string(), Some(d.to_string())),
            None => (lower.clone(), None),
        };
        let rest = &url[colon + 1..];
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let mut o = ConnectOptions {
            url: url.to_string(),
            scheme,
            driver_hint,
            user: None,
            password: None,
            host: None,
            port: None,
            database: None,
            raw_path: rest.to_string(),
            options: Vec::new(),
        };
        if let Some(after) = rest.strip_prefix("//") {
            let (authority, path) = match after.find('/') {
                Some(i) => (&after[..i], &after[i..]),
                None => (after, ""),
            };
            let shown = redact_url(url);
            // `ann:12/cret@h/db` or `ann:12?cret@h/db`: a password with an unencoded `/` or `?`
            // ends the authority early, leaving `ann:12` (a host and port) and an `@` after it.
            // SQLAlchemy would read everything up to that `@` as the password; refuse rather than
            // connect somewhere else with the password's tail as the database name or an option.
            if !authority.contains('@') && authority.contains(':') && url[colon + 1..].contains('@') {
                return Err(Error::config(format!(
                    "ambiguous URL {shown:?}: an '@' follows the host and port ({ENCODE_HINT}, and %40 for an '@' in \
                     a database name or option)"
                )));
            }
            let a = parse_authority(authority, &shown)?;
            (o.user, o.password, o.host, o.port) = (a.user, a.password, a.host, a.port);
            let db = path.strip_prefix('/').unwrap_or(path);
            if !db.is_empty() {
                o.database = Some(percent_decode(db, "database")?);
            }
        } else if !rest.is_empty() {
            o.database = Some(percent_decode(rest, "path")?);
        }
        if let Some(q) = query {
            for pair in q.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                o.options.push((percent_decode(k, "options")?, percent_decode(v, "options")?));
            }
        }
        Ok(o)
    }

    /// The same URL naming another database on the same server (the authority and options as
    /// written), for a server URL; `database` empty names none.
    ///
    /// ```
    /// use athanor_core::ConnectOptions;
    /// let o = ConnectOptions::parse("postgres://ann:p%40ss@db:5433/app?pool_size=4").unwrap();
    /// assert_eq!(o.with_database("postgres").unwrap(), "postgres://ann:p%40ss@db:5433/postgres?pool_size=4");
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] for a URL without the server form (see
    /// [`ConnectOptions::require_server_form`]).
    pub fn with_database(&self, database: &str) -> Result<String> {
        self.require_server_form()?;
        let (scheme, rest) = self.url.split_once(':').unwrap_or((&self.url, ""));
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let after = rest.strip_prefix("//").unwrap_or(rest);
        let authority = after.split('/').next().unwrap_or("");
        let mut out = format!("{scheme}://{authority}/");
        for b in database.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        if let Some(q) = query {
            out.push('?');
            out.push_str(q);
        }
        Ok(out)
    }

    /// Check that the URL has the shape of a database server's URL,
    /// `scheme://[user[:password]@]host[:port]/database[?options]` (host and database may be
    /// left out for the backend's defaults), as server backends require.
    ///
    /// ```
    /// use athanor_core::ConnectOptions;
    /// assert!(ConnectOptions::parse("mysql://root@127.0.0.1/test").unwrap().require_server_form().is_ok());
    /// assert!(ConnectOptions::parse("mysql:/root@127.0.0.1/test").unwrap().require_server_form().is_err());
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] naming what is wrong: no `//` after the scheme (`mysql:/root@h/db`,
    /// `postgres:db`), or a database name with a `/` in it (`postgres://h/a/b`).
    pub fn require_server_form(&self) -> Result<()> {
        let Some(after) = self.raw_path.strip_prefix("//") else {
            return Err(Error::config(format!(
                "malformed {scheme} URL {url:?}: expected {scheme}://[user[:password]@]host[:port]/database",
                scheme = self.scheme,
                url = self.redacted()
            )));
        };
        let path = after.find('/').map_or("", |i| &after[i + 1..]);
        if path.contains('/') {
            return Err(Error::config(format!(
                "malformed {} URL {:?}: the database name {path:?} contains '/' (write %2F for a '/' in a name)",
                self.scheme,
                self.redacted()
            )));
        }
        Ok(())
    }

    /// The query options left to the backend: every option except the engine's own
    /// ([`ENGINE_OPTIONS`]), in order.
    ///
    /// ```
    /// let o = athanor_core::ConnectOptions::parse("sqlite://x.db?pool_size=3&journal_mode=wal").unwrap();
    /// assert_eq!(o.backend_options().collect::<Vec<_>>(), [("journal_mode", "wal")]);
    /// ```
    pub fn backend_options(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.options
            .iter()
            .filter(|(k, _)| !ENGINE_OPTIONS.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The last value of option `key`.
    pub fn option(&self, key: &str) -> Option<&str> {
        self.options.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Parse option `key` as a `T`, with a [`Error::Config`] naming the option when it does not parse.
    ///
    /// # Errors
    /// [`Error::Config`] naming the option and its value when it does not parse as `T`.
    pub fn parsed_option<T: std::str::FromStr>(&self, key: &str) -> Result<Option<T>> {
        match self.option(key) {
            None => Ok(None),
            Some(v) => {
                v.parse::<T>().map(Some).map_err(|_| Error::config(format!("invalid value {v:?} for URL option {key}")))
            }
        }
    }

    /// A duration option as whole milliseconds: `200` or `200ms` (milliseconds), `2s` (seconds),
    /// as `slow_statement`, `statement_timeout` and `lock_timeout` are written.
    ///
    /// # Errors
    /// [`Error::Config`] naming the option for any other text.
    pub fn millis_option(&self, key: &str) -> Result<Option<u64>> {
        let Some(v) = self.option(key) else { return Ok(None) };
        let t = v.trim();
        let (digits, scale) = if let Some(n) = t.strip_suffix("ms") {
            (n, 1)
        } else if let Some(n) = t.strip_suffix('s') {
            (n, 1000)
        } else {
            (t, 1)
        };
        digits.trim().parse::<u64>().ok().and_then(|n| n.checked_mul(scale)).map(Some).ok_or_else(|| {
            Error::config(format!(
                "invalid value {v:?} for URL option {key} (a whole number of milliseconds: 200, 200ms or 2s)"
            ))
        })
    }

    /// The URL with the password replaced by `***` (for logs and error messages): everything
    /// from the user's `:` to the last `@` is masked, so a password is hidden even where an
    /// unencoded `/`, `?` or `#` in it misled the parser.
    ///
    /// ```
    /// let o = athanor_core::ConnectOptions::parse("postgres://ann:s3cret@db/app").unwrap();
    /// assert_eq!(o.redacted(), "postgres://ann:***@db/app");
    /// ```
    pub fn redacted(&self) -> String {
        redact_url(&self.url)
    }
}

impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("url", &self.redacted())
            .field("scheme", &self.scheme)
            .field("driver_hint", &self.driver_hint)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("host", &self.host)
            .field("port", &self.port)
            // Masked too: in the opaque form (`postgres:ann:pw@h`) the path holds the user info.
            .field("database", &self.database.as_deref().map(mask_userinfo))
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_milliseconds_with_or_without_a_unit() {
        let o = ConnectOptions::parse("postgres://h/db?a=200&b=200ms&c=2s&d=2.5s&e=x&f=-1&g=").unwrap();
        assert_eq!(o.millis_option("a").unwrap(), Some(200));
        assert_eq!(o.millis_option("b").unwrap(), Some(200));
        assert_eq!(o.millis_option("c").unwrap(), Some(2000));
        assert_eq!(o.millis_option("absent").unwrap(), None);
        for bad in ["d", "e", "f", "g"] {
            let e = o.millis_option(bad).unwrap_err().to_string();
            assert!(e.contains(&format!("URL option {bad}")), "{e}");
        }
    }

    #[test]
    fn sqlite_spellings() {
        let rel = ConnectOptions::parse("sqlite://relative.db").unwrap();
        assert_eq!(rel.host.as_deref(), Some("relative.db"));
        assert_eq!(rel.database, None);
        let abs = ConnectOptions::parse("sqlite:///tmp/abs.db").unwrap();
        assert_eq!(abs.host, None);
        assert_eq!(abs.database.as_deref(), Some("tmp/abs.db"));
        assert_eq!(abs.raw_path, "///tmp/abs.db");
        let mem = ConnectOptions::parse("sqlite::memory:").unwrap();
        assert_eq!(mem.raw_path, ":memory:");
    }

    #[test]
    fn server_urls() {
        let o = ConnectOptions::parse("mysql+pymysql://root@127.0.0.1:3306/test?pool_size=3&echo=true").unwrap();
        assert_eq!(o.scheme, "mysql");
        assert_eq!(o.driver_hint.as_deref(), Some("pymysql"));
        assert_eq!(o.user.as_deref(), Some("root"));
        assert_eq!(o.password, None);
        assert_eq!(o.host.as_deref(), Some("127.0.0.1"));
        assert_eq!(o.port, Some(3306));
        assert_eq!(o.parsed_option::<u32>("pool_size").unwrap(), Some(3));
        let v6 = ConnectOptions::parse("postgres://[::1]:5432/db").unwrap();
        assert_eq!(v6.host.as_deref(), Some("::1"));
    }

    #[test]
    fn malformed_urls_are_config_errors() {
        for bad in [
            "",
            "no-scheme-here",
            "postgres://h:99999/db",
            "postgres://h:port/db",
            "postgres://u:%zz@h/db",
            "postgres://u@h/d%zzb",
            "://x",
            "post gres://h",
            "postgres://:5432/db",
            "postgres://u@/db",
            "postgres://u:p@:1/db",
            "mysql://h o/db",
            "mysql://[::1/db",
            "mysql://h/db?x=%g0",
        ] {
            match ConnectOptions::parse(bad) {
                Err(Error::Config { message }) => assert!(!message.is_empty()),
                other => panic!("{bad:?}: expected a Config error, got {other:?}"),
            }
        }
    }

    #[test]
    fn server_form_is_required_by_servers() {
        for (bad, needle) in [
            ("mysql:/root@127.0.0.1/test", "expected mysql://"),
            ("postgres:/postgres@127.0.0.1/test", "expected postgres://"),
            ("postgres:test", "expected postgres://"),
            ("mysql:", "expected mysql://"),
            ("postgres://h/a/b", "contains '/'"),
        ] {
            let o = ConnectOptions::parse(bad).unwrap();
            match o.require_server_form() {
                Err(Error::Config { message }) => assert!(message.contains(needle), "{bad}: {message}"),
                other => panic!("{bad:?}: expected a Config error, got {other:?}"),
            }
        }
        for good in [
            "postgres://",
            "postgres://h",
            "postgres://h/db",
            "postgres://u:p@h:1/db?x=1",
            "postgres:///db?host=/tmp",
            "mysql://root@127.0.0.1:3306/test",
            "mariadb://[::1]:3307/a%2Fb",
            "mysql+pymysql://u:@h/db",
        ] {
            let o = ConnectOptions::parse(good).unwrap_or_else(|e| panic!("{good}: {e}"));
            o.require_server_form().unwrap_or_else(|e| panic!("{good}: {e}"));
        }
        let o = ConnectOptions::parse("mysql+pymysql://u:@h/a%2Fb").unwrap();
        assert_eq!((o.user.as_deref(), o.password.as_deref()), (Some("u"), Some("")));
        assert_eq!(o.database.as_deref(), Some("a/b"));
        let o = ConnectOptions::parse("postgres://u:p@ss:w@h/db").unwrap();
        assert_eq!(o.password.as_deref(), Some("p@ss:w"));
        assert_eq!(o.host.as_deref(), Some("h"));
        let o = ConnectOptions::parse("postgres://DB.Example:5/x").unwrap();
        assert_eq!(o.host.as_deref(), Some("DB.Example"));
    }

    #[test]
    fn engine_options_are_the_engines_and_only_those() {
        // Every name in the list is read (and checked) by EngineConfig …
        for key in ENGINE_OPTIONS {
            // `replicas` holds host names, which `not-a-value` could be: a bad port instead.
            let value = if *key == "replicas" { "h:not-a-port" } else { "not-a-value" };
            let o = ConnectOptions::parse(&format!("sqlite://x.db?{key}={value}")).unwrap();
            assert!(crate::EngineConfig::from_options(&o).is_err(), "{key} is not read by EngineConfig");
        }
        // … and hidden from the backend.
        let o = ConnectOptions::parse("postgres://h/db?pool_size=2&sslmode=disable&echo=1&application_name=a").unwrap();
        assert_eq!(o.backend_options().collect::<Vec<_>>(), [("sslmode", "disable"), ("application_name", "a")]);
    }

    #[test]
    fn redacts_password() {
        let o = ConnectOptions::parse("postgres://u:secret@h/db").unwrap();
        assert_eq!(o.redacted(), "postgres://u:***@h/db");
        assert!(!format!("{o:?}").contains("secret"), "{o:?}");
    }

    /// The issue's case: an unencoded `#` (or `/`, `?`) in a password used to be quoted back in
    /// the error (`malformed host part "ann:Se#cret@127.0.0.1:5999"`).
    #[test]
    fn unencoded_specials_in_a_password_are_refused_without_showing_it() {
        for url in [
            "postgres://ann:Se#cret@127.0.0.1:5999/db",
            "postgres://ann:Se/cret@127.0.0.1:5999/db",
            "postgres://ann:Se?cret@127.0.0.1:5999/db",
            "postgres://ann:12/cret@127.0.0.1:5999/db",
            "postgres://ann:12?cret@127.0.0.1",
            "mysql://ann:1#cret@h/db",
        ] {
            match ConnectOptions::parse(url) {
                Err(e @ Error::Config { .. }) => {
                    let shown = format!("{e} {e:?}");
                    assert!(!shown.contains("cret"), "{url}: {shown}");
                    assert!(shown.contains("%23"), "{url}: the error says how to encode: {shown}");
                }
                other => panic!("{url}: expected a Config error, got {other:?}"),
            }
        }
        // Encoded, the same password is read exactly.
        let o = ConnectOptions::parse("postgres://ann:Se%23c%2Fr%3Fet@127.0.0.1:5999/db").unwrap();
        assert_eq!(o.password.as_deref(), Some("Se#c/r?et"));
        assert_eq!(o.redacted(), "postgres://ann:***@127.0.0.1:5999/db");
    }

    /// Random passwords over an alphabet of URL-special characters, written unencoded and
    /// percent-encoded into server URLs: whatever the parser makes of them, no error's Display or
    /// Debug, no `redacted()` and no `Debug` of the options holds the password.
    #[test]
    fn no_error_or_debug_output_shows_a_random_password() {
        const ALPHABET: &[u8] = b"@:/?#%&=+ ;[]!$'()*,~.-_abcXYZ019";
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..4000 {
            let len = 1 + (next() % 12) as usize;
            let middle: String =
                (0..len).map(|_| char::from(ALPHABET[(next() % ALPHABET.len() as u64) as usize])).collect();
            // Marked at both ends so the whole password cannot occur by chance.
            let password = format!("Qk{middle}Vj");
            let encoded: String = password.bytes().map(|b| format!("%{b:02X}")).collect();
            for pw in [password.as_str(), encoded.as_str()] {
                for url in [
                    format!("postgres://ann:{pw}@127.0.0.1:5999/db"),
                    format!("postgresql+psycopg2://ann:{pw}@db.example/app?sslmode=disable"),
                    format!("mysql://ann:{pw}@h"),
                    format!("mariadb://ann:{pw}@[::1]:3306/x?charset=utf8mb4"),
                    format!("postgres:ann:{pw}@h/db"),
                ] {
                    let check = |shown: String| {
                        assert!(!shown.contains(&password), "{url:?} shows the password: {shown}");
                        if pw != password {
                            assert!(!shown.contains(&encoded), "{url:?} shows the encoded password: {shown}");
                        }
                    };
                    match ConnectOptions::parse(&url) {
                        Err(e) => check(format!("{e} {e:?}")),
                        Ok(o) => {
                            check(format!("{} {o:?}", o.redacted()));
                            if let Err(e) = o.require_server_form() {
                                check(format!("{e} {e:?}"));
                            }
                        }
                    }
                }
            }
        }
    }
}
