//! Codes on things: reading the code on an item from a camera frame or a
//! photo ([`decode`], with `rxing`), and printing sheets of QR labels for
//! items ([`labels`]) and guests' badges ([`guest_badge`]). On a phone the barcode-scanner plugin reads codes in
//! the page; typing a code always works.

pub mod decode;
pub mod guest_badge;
pub mod labels;
