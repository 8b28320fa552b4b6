//! sealtip-relay (stub until the relay lands).
fn main() {}
