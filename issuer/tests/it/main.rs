//! The issuer over a real loopback socket, with a real sled store in a
//! temporary directory (`intyg_testkit::TestIssuer`).

mod admin;
mod audit;
mod auth_code;
mod backup;
mod crash;
mod flow;
mod haip;
mod hygiene;
mod multi;
mod pkcs11;
mod portal;
mod signing;
mod stores;
