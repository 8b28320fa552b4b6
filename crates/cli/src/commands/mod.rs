//! One module per `sealtip` command.

pub mod agency;
pub mod case;
pub mod codename;
pub mod export;
pub mod inbox;
pub mod keygen;
pub mod open;
pub mod pull;
pub mod reply;
pub mod seal;
pub mod sign_manifest;
pub mod submit;
pub mod thread;
pub mod tipster;
pub mod verify_client;
