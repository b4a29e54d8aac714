//! Engine URLs: `scheme[+driver]://[user[:password]@]host[:port]/database?option=value&…`.
//!
//! Parsing is database-neutral; which options a backend understands is the backend's business,
//! and the engine's own options (`pool_size`, `pool_timeout`, `echo`, `isolation_level`) are read
//! by [`crate::EngineConfig`].

use crate::error::{Error, Result};

/// A parsed engine URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// The URL as given (with the password masked by [`ConnectOptions::redacted`]).
    pub url: String,
    /// The scheme without a `+driver` suffix, lower case: `sqlite`, `postgresql`, `mysql` …
    pub scheme: String,
    /// The `+driver` suffix (`psycopg2`, `pymysql`), accepted and ignored.
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

fn percent_decode(s: &str, what: &str) -> Result<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                let byte = hex
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

impl ConnectOptions {
    /// Parse a URL. Fails with [`Error::Config`] when it has no scheme or a malformed authority.
    ///
    /// ```
    /// let o = athanor_core::ConnectOptions::parse("postgresql+psycopg2://u:p%40ss@db:5433/app?pool_size=4").unwrap();
    /// assert_eq!(o.scheme, "postgresql");
    /// assert_eq!(o.password.as_deref(), Some("p@ss"));
    /// assert_eq!(o.port, Some(5433));
    /// assert_eq!(o.database.as_deref(), Some("app"));
    /// assert_eq!(o.option("pool_size"), Some("4"));
    /// ```
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
            let (userinfo, hostport) = match authority.rfind('@') {
                Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
                None => (None, authority),
            };
            if let Some(ui) = userinfo {
                let (u, p) = match ui.split_once(':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (ui, None),
                };
                if !u.is_empty() {
                    o.user = Some(percent_decode(u, "user")?);
                }
                if let Some(p) = p {
                    o.password = Some(percent_decode(p, "password")?);
                }
            }
            if !hostport.is_empty() {
                let (host, port) = if let Some(stripped) = hostport.strip_prefix('[') {
                    let end = stripped.find(']').ok_or_else(|| Error::config("malformed IPv6 host in URL"))?;
                    let port = stripped[end + 1..].strip_prefix(':');
                    (&stripped[..end], port)
                } else {
                    match hostport.rsplit_once(':') {
                        Some((h, p)) => (h, Some(p)),
                        None => (hostport, None),
                    }
                };
                if host.is_empty() {
                    return Err(Error::config("the URL has a port but no host"));
                }
                o.host = Some(percent_decode(host, "host")?);
                if let Some(p) = port {
                    if !p.is_empty() {
                        o.port = Some(
                            p.parse::<u16>()
                                .map_err(|_| Error::config(format!("invalid port {p:?} in URL (expected 0-65535)")))?,
                        );
                    }
                }
            }
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

    /// The last value of option `key`.
    pub fn option(&self, key: &str) -> Option<&str> {
        self.options.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Parse option `key` as a `T`, with a [`Error::Config`] naming the option when it does not parse.
    pub fn parsed_option<T: std::str::FromStr>(&self, key: &str) -> Result<Option<T>> {
        match self.option(key) {
            None => Ok(None),
            Some(v) => {
                v.parse::<T>().map(Some).map_err(|_| Error::config(format!("invalid value {v:?} for URL option {key}")))
            }
        }
    }

    /// The URL with the password replaced by `***` (for logs and error messages).
    pub fn redacted(&self) -> String {
        match &self.password {
            Some(p) if !p.is_empty() => {
                // Mask the raw password as it appears between ':' and '@' in the authority.
                if let Some(scheme_end) = self.url.find("://") {
                    let after = &self.url[scheme_end + 3..];
                    if let Some(at) = after.rfind('@') {
                        if let Some(c) = after[..at].find(':') {
                            return format!("{}{}:***{}", &self.url[..scheme_end + 3], &after[..c], &after[at..]);
                        }
                    }
                }
                self.url.clone()
            }
            _ => self.url.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        for bad in ["", "no-scheme-here", "postgres://h:99999/db", "postgres://u:%zz@h/db", "://x", "post gres://h"] {
            assert!(matches!(ConnectOptions::parse(bad), Err(Error::Config { .. })), "{bad:?} parsed");
        }
    }

    #[test]
    fn redacts_password() {
        let o = ConnectOptions::parse("postgres://u:secret@h/db").unwrap();
        assert_eq!(o.redacted(), "postgres://u:***@h/db");
    }
}
