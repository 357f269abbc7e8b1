//! Where an address is: a MaxMind city database (GeoLite2-City or GeoIP2-City `.mmdb`),
//! for the location column and the impossible-travel rule. Optional: without a database,
//! locations come only from the tenants that report them.

use std::net::IpAddr;
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, ErrorCode, Result};

/// The GeoIP database as pollers and rules read it; replaced live from the settings.
pub type SharedGeoIp = std::sync::Arc<std::sync::RwLock<Option<std::sync::Arc<GeoIp>>>>;

/// A place an address maps to.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    pub latitude: f64,
    pub longitude: f64,
    /// Kilometres; the database's own estimate of its error.
    pub accuracy_km: Option<u16>,
}

impl Place {
    /// "Berlin, DE", "DE" or the coordinates.
    pub fn label(&self) -> String {
        match (&self.city, &self.country) {
            (Some(c), Some(k)) => format!("{c}, {k}"),
            (Some(c), None) => c.clone(),
            (None, Some(k)) => k.clone(),
            (None, None) => format!("{:.2}, {:.2}", self.latitude, self.longitude),
        }
    }

    /// Great-circle distance in kilometres (haversine, mean Earth radius).
    pub fn distance_km(&self, other: &Place) -> f64 {
        let (la1, lo1) = (self.latitude.to_radians(), self.longitude.to_radians());
        let (la2, lo2) = (other.latitude.to_radians(), other.longitude.to_radians());
        let a = ((la2 - la1) / 2.0).sin().powi(2)
            + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
        2.0 * 6_371.0 * a.sqrt().min(1.0).asin()
    }
}

#[derive(Deserialize)]
struct Names<'a> {
    #[serde(borrow, default)]
    en: Option<&'a str>,
}

#[derive(Deserialize)]
struct City<'a> {
    #[serde(borrow, default)]
    names: Option<Names<'a>>,
}

#[derive(Deserialize)]
struct Country<'a> {
    #[serde(borrow, default)]
    iso_code: Option<&'a str>,
}

#[derive(Deserialize)]
struct Location {
    latitude: Option<f64>,
    longitude: Option<f64>,
    accuracy_radius: Option<u16>,
}

#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow, default)]
    city: Option<City<'a>>,
    #[serde(borrow, default)]
    country: Option<Country<'a>>,
    #[serde(default)]
    location: Option<Location>,
}

/// An open city database, read into memory once.
pub struct GeoIp {
    reader: maxminddb::Reader<Vec<u8>>,
    path: String,
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoIp").field("path", &self.path).finish()
    }
}

impl GeoIp {
    /// Opens a `.mmdb` city database; the error names the file and says what is wrong.
    pub fn open(path: &Path) -> Result<Self> {
        let shown = path.display().to_string();
        let reader = maxminddb::Reader::open_readfile(path).map_err(|e| {
            Error::new(
                ErrorCode::InvalidInput,
                format!("geoip_database: {shown}: not a readable MaxMind database ({e})"),
            )
        })?;
        let kind = reader.metadata.database_type.clone();
        if !kind.contains("City") {
            return Err(Error::new(
                ErrorCode::InvalidInput,
                format!(
                    "geoip_database: {shown} is a {kind} database; a City database (GeoLite2-City or GeoIP2-City) is needed for places"
                ),
            ));
        }
        Ok(Self {
            reader,
            path: shown,
        })
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// The place of an address, if the database has one with coordinates.
    pub fn locate(&self, ip: &str) -> Option<Place> {
        let addr: IpAddr = ip.trim().parse().ok()?;
        let record: Record<'_> = self.reader.lookup(addr).ok()?.decode().ok()??;
        let location = record.location?;
        Some(Place {
            city: record
                .city
                .and_then(|c| c.names)
                .and_then(|n| n.en)
                .map(str::to_owned),
            country: record.country.and_then(|c| c.iso_code).map(str::to_owned),
            latitude: location.latitude?,
            longitude: location.longitude?,
            accuracy_km: location.accuracy_radius,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn db() -> GeoIp {
        GeoIp::open(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/geoip/city-test.mmdb"),
        )
        .unwrap()
    }

    #[test]
    fn finds_cities_for_v4_and_v6() {
        let g = db();
        let berlin = g.locate("198.51.100.7").unwrap();
        assert_eq!(berlin.label(), "Berlin, DE");
        assert_eq!(g.locate("2001:db8::1").unwrap().label(), "London, GB");
        assert_eq!(g.locate("203.0.113.200").unwrap().label(), "Sydney, AU");
        assert!(
            g.locate("10.1.2.3").is_none(),
            "unknown networks have no place"
        );
        assert!(g.locate("not an ip").is_none());
    }

    #[test]
    fn distances_are_great_circle_kilometres() {
        let g = db();
        let berlin = g.locate("198.51.100.1").unwrap();
        let sydney = g.locate("203.0.113.1").unwrap();
        let potsdam = g.locate("198.18.0.1").unwrap();
        let d = berlin.distance_km(&sydney);
        assert!((16_000.0..16_200.0).contains(&d), "{d}");
        let near = berlin.distance_km(&potsdam);
        assert!((20.0..40.0).contains(&near), "{near}");
        assert!(berlin.distance_km(&berlin) < 0.001);
    }

    #[test]
    fn a_file_that_is_not_a_database_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.mmdb");
        std::fs::write(&p, b"definitely not a database").unwrap();
        let e = GeoIp::open(&p).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput);
        assert!(
            e.message.starts_with("geoip_database:") && e.message.contains("bad.mmdb"),
            "{e}"
        );
    }
}
