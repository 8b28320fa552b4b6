//! One module per `sealtip` command.

pub mod codename;
pub mod keygen;
pub mod open;
pub mod seal;
