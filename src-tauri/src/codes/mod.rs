//! Codes on things: reading the code on an item from a camera frame or a
//! photo ([`decode`], with `rxing`), and printing sheets of QR labels for
//! items ([`labels`]). On a phone the barcode-scanner plugin reads codes in
//! the page; typing a code always works.

pub mod decode;
pub mod labels;
