//! Offers from nodes not (yet) known as browsers of our circles, held for one more look.
//!
//! A browser registers at the relay and offers at once. When felundd's last browser
//! discovery is too recent to ask the relay again, such an offer would be dropped for good
//! (the poll cursor has passed it, and it goes stale long before the browser gives up on it).
//! Instead it waits here until the link may discover again, and is then answered if its
//! sender turned out to be registered in one of our circles — or dropped, as a stranger's.
//! At most [`DC_MAX_HELD_OFFERS`] wait (the oldest go first), one per session.

use std::collections::VecDeque;

use super::signal::Signal;
use crate::limits::DC_MAX_HELD_OFFERS;

/// The held offers, oldest first, each with the relay's clock of the poll that brought it.
#[derive(Debug, Default)]
pub(super) struct HeldOffers {
    offers: VecDeque<(Signal, i64)>,
}

impl HeldOffers {
    /// Holds `offer` (polled at the relay's `server_time`), replacing an earlier offer of the
    /// same session.
    pub(super) fn hold(&mut self, offer: Signal, server_time: i64) {
        self.forget(&offer.session_id);
        if self.offers.len() >= DC_MAX_HELD_OFFERS {
            self.offers.pop_front();
        }
        self.offers.push_back((offer, server_time));
    }

    /// Drops any held offer of `session_id` (a newer one is being answered).
    pub(super) fn forget(&mut self, session_id: &str) {
        self.offers.retain(|(o, _)| o.session_id != session_id);
    }

    /// Whether any offer waits.
    pub(super) fn is_empty(&self) -> bool {
        self.offers.is_empty()
    }

    /// Every held offer, oldest first; none is held afterwards.
    pub(super) fn take(&mut self) -> Vec<(Signal, i64)> {
        self.offers.drain(..).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use felund_wire::datachannel::signal::SignalKind;

    fn offer(from: &str, id: i64) -> Signal {
        Signal {
            id,
            session_id: format!("session-{from}"),
            from_node: from.into(),
            kind: SignalKind::Offer,
            payload: "{}".into(),
            created_at: 100,
        }
    }

    #[test]
    fn a_newer_offer_of_a_session_replaces_the_held_one() {
        let mut held = HeldOffers::default();
        held.hold(offer("a", 1), 100);
        held.hold(offer("b", 2), 100);
        held.hold(offer("a", 3), 101);
        let ids: Vec<i64> = held.take().iter().map(|(s, _)| s.id).collect();
        assert_eq!(ids, [2, 3]);
        assert!(held.is_empty());
    }

    #[test]
    fn a_flood_of_strangers_offers_keeps_only_the_newest_few() {
        let mut held = HeldOffers::default();
        for i in 0..1_000 {
            held.hold(offer(&format!("stranger{i}"), i), 100);
        }
        let taken = held.take();
        assert_eq!(taken.len(), DC_MAX_HELD_OFFERS);
        assert_eq!(taken.last().map(|(s, _)| s.id), Some(999));
    }

    #[test]
    fn an_answered_session_is_forgotten() {
        let mut held = HeldOffers::default();
        held.hold(offer("a", 1), 100);
        held.forget("session-a");
        assert!(held.is_empty());
    }
}
