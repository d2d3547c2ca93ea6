//! Where a sign-in comes from, and how many are in flight from there.
//!
//! The client address is the TCP peer, unless the peer is one of
//! `server.trusted_proxies`: then it is the right-most address in
//! `server.client_address_header` that is not itself a trusted proxy (what
//! the nearest untrusted hop was seen as). A client cannot choose its
//! address by sending the header, because the header is read only from a
//! trusted proxy, and a proxy appends (or sets) the address it saw last.
//!
//! An IPv6 client is counted by its /64, the block one subscriber holds,
//! so that walking through its own addresses buys no budget.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use actix_web::HttpRequest;
use actix_web::http::header::HeaderName;

use crate::settings::ServerSettings;

/// Reads the client address of a request.
pub struct ClientAddresses {
    trusted: Vec<IpAddr>,
    header: Option<HeaderName>,
}

impl ClientAddresses {
    pub fn new(settings: &ServerSettings) -> ClientAddresses {
        ClientAddresses {
            trusted: settings
                .trusted_proxies
                .iter()
                .map(|ip| ip.to_canonical())
                .collect(),
            header: HeaderName::from_bytes(settings.client_address_header.as_bytes()).ok(),
        }
    }

    /// The client's address as the throttle counts it, or `None` when the
    /// connection has no peer address (never over TCP).
    pub fn of(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip().to_canonical();
        let client = if self.trusted.contains(&peer) {
            self.named_by_proxy(req).unwrap_or(peer)
        } else {
            peer
        };
        Some(counted(client))
    }

    /// The right-most address of the header that is not a trusted proxy.
    /// A value that does not parse stops the walk: left of it, anything
    /// may have come from the client.
    fn named_by_proxy(&self, req: &HttpRequest) -> Option<IpAddr> {
        let header = self.header.as_ref()?;
        let values: Vec<&str> = req
            .headers()
            .get_all(header)
            .filter_map(|value| value.to_str().ok())
            .collect();
        let hops = values.iter().flat_map(|value| value.split(','));
        for hop in hops.rev().map(str::trim) {
            let address = parse_hop(hop)?.to_canonical();
            if !self.trusted.contains(&address) {
                return Some(address);
            }
        }
        None
    }
}

/// An address as a hop of `X-Forwarded-For` may be written: bare, or with
/// a port (`203.0.113.7:4711`, `[2001:db8::1]:4711`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// The address as counted: IPv4 as it is, IPv6 cut to its /64.
fn counted(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
    }
}

/// Password checks in flight per client address, capped (`auth.
/// max_concurrent_logins_per_address`). Counted in this process: it bounds
/// what one address can make this node do at once.
pub struct InFlight {
    counts: Arc<Mutex<HashMap<Option<IpAddr>, u32>>>,
    cap: u32,
}

/// One sign-in in flight; dropping it (the answer sent, or the request
/// abandoned) lets the next one in.
pub struct InFlightGuard {
    counts: Arc<Mutex<HashMap<Option<IpAddr>, u32>>>,
    address: Option<IpAddr>,
}

impl InFlight {
    pub fn new(cap: u32) -> InFlight {
        InFlight {
            counts: Arc::new(Mutex::new(HashMap::new())),
            cap: cap.max(1),
        }
    }

    /// A place for one more check from `address`, or `None` when it has
    /// `cap` in flight already.
    pub fn enter(&self, address: Option<IpAddr>) -> Option<InFlightGuard> {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = counts.entry(address).or_insert(0);
        if *count >= self.cap {
            return None;
        }
        *count += 1;
        Some(InFlightGuard {
            counts: self.counts.clone(),
            address,
        })
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.address) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.address);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn addresses(trusted: &[&str]) -> ClientAddresses {
        ClientAddresses {
            trusted: trusted.iter().map(|t| t.parse().unwrap()).collect(),
            header: Some(HeaderName::from_static("x-forwarded-for")),
        }
    }

    fn request(peer: &str, forwarded: Option<&str>) -> HttpRequest {
        let mut req = TestRequest::default().peer_addr(peer.parse().unwrap());
        if let Some(value) = forwarded {
            req = req.insert_header(("X-Forwarded-For", value));
        }
        req.to_http_request()
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        let a = addresses(&["10.0.0.5"]);
        // A client talking directly cannot name itself.
        assert_eq!(
            a.of(&request("198.51.100.9:1000", Some("1.2.3.4"))),
            ip("198.51.100.9")
        );
        // Through the proxy: the address the proxy saw, not what the client
        // prepended.
        assert_eq!(
            a.of(&request("10.0.0.5:1000", Some("1.2.3.4, 203.0.113.7"))),
            ip("203.0.113.7")
        );
        // No header, or nothing usable in it: the proxy's own address.
        assert_eq!(a.of(&request("10.0.0.5:1000", None)), ip("10.0.0.5"));
        assert_eq!(
            a.of(&request("10.0.0.5:1000", Some("garbage"))),
            ip("10.0.0.5")
        );
        assert_eq!(
            a.of(&request("10.0.0.5:1000", Some("10.0.0.5"))),
            ip("10.0.0.5")
        );
        // Garbage left of a good hop is never reached.
        assert_eq!(
            a.of(&request("10.0.0.5:1000", Some("x, 203.0.113.7:4711"))),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn chained_trusted_proxies_are_walked_past() {
        let a = addresses(&["10.0.0.5", "10.0.0.6"]);
        assert_eq!(
            a.of(&request(
                "10.0.0.5:1000",
                Some("6.6.6.6, 203.0.113.7, 10.0.0.6")
            )),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn without_trusted_proxies_the_header_is_never_read() {
        let a = addresses(&[]);
        assert_eq!(
            a.of(&request("10.0.0.5:1000", Some("203.0.113.7"))),
            ip("10.0.0.5")
        );
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64_and_mapped_v4_as_v4() {
        let a = addresses(&[]);
        assert_eq!(
            a.of(&request("[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:443", None)),
            ip("2001:db8:1:2::")
        );
        assert_eq!(
            a.of(&request("[::ffff:192.0.2.1]:443", None)),
            ip("192.0.2.1")
        );
    }

    #[test]
    fn in_flight_checks_are_capped_per_address_and_released() {
        let flights = InFlight::new(2);
        let here = ip("192.0.2.1");
        let first = flights.enter(here).unwrap();
        let _second = flights.enter(here).unwrap();
        assert!(flights.enter(here).is_none());
        assert!(flights.enter(ip("192.0.2.2")).is_some(), "another address");
        drop(first);
        assert!(flights.enter(here).is_some());
    }
}
