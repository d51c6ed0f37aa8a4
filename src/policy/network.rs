//! Listening addresses: which are loopback (always allowed) and which reach the network
//! (need consent). A host *name* other than `localhost` counts as the network, because
//! resolving it is already a query leaving the machine; it is resolved only after the
//! user consented.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};

/// Where a listen host points, decided without any name resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenTarget {
    /// A loopback address (`127.0.0.0/8`, `::1`, or the name `localhost`).
    Loopback(IpAddr),
    /// Any other literal address, `0.0.0.0` and `::` included.
    Network(IpAddr),
    /// A host name that would have to be resolved.
    Name(String),
}

impl ListenTarget {
    /// Classifies `host` as written (`[::1]` brackets allowed).
    pub fn of(host: &str) -> ListenTarget {
        let trimmed = host.trim();
        let bare = trimmed
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(trimmed);
        if bare.eq_ignore_ascii_case("localhost") {
            return ListenTarget::Loopback(IpAddr::V4(Ipv4Addr::LOCALHOST));
        }
        match bare.parse::<IpAddr>() {
            Ok(ip) if ip.is_loopback() => ListenTarget::Loopback(ip),
            Ok(ip) => ListenTarget::Network(ip),
            Err(_) => ListenTarget::Name(bare.to_string()),
        }
    }

    pub fn is_loopback(&self) -> bool {
        matches!(self, ListenTarget::Loopback(_))
    }

    /// The socket addresses to bind. Names are resolved here, so call this only once the
    /// policy allowed the network.
    pub fn addresses(&self, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        match self {
            ListenTarget::Loopback(ip) | ListenTarget::Network(ip) => {
                Ok(vec![SocketAddr::new(*ip, port)])
            }
            ListenTarget::Name(name) => Ok((name.as_str(), port).to_socket_addrs()?.collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_forms_are_recognised_without_resolving() {
        for host in [
            "127.0.0.1",
            "127.8.9.10",
            "::1",
            "[::1]",
            "localhost",
            "LocalHost",
        ] {
            assert!(ListenTarget::of(host).is_loopback(), "{host}");
        }
    }

    #[test]
    fn wildcards_public_addresses_and_names_are_not_loopback() {
        assert!(matches!(
            ListenTarget::of("0.0.0.0"),
            ListenTarget::Network(_)
        ));
        assert!(matches!(ListenTarget::of("::"), ListenTarget::Network(_)));
        assert!(matches!(
            ListenTarget::of("10.1.2.3"),
            ListenTarget::Network(_)
        ));
        assert_eq!(
            ListenTarget::of("beacon.example"),
            ListenTarget::Name("beacon.example".into())
        );
    }
}
