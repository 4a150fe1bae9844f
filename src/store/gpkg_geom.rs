//! GeoPackage binary geometries (OGC 12-128r18 §2.1.3): a `GP` header with SRS id and envelope,
//! then little-endian WKB. Coordinates are stored as given (EPSG:4326 lon/lat for civmap).

use geo::{
    BoundingRect, Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point,
    Polygon,
};

/// Why a blob is not a GeoPackage geometry civmap can read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum GeomError {
    #[error("geometry blob is truncated")]
    Truncated,
    #[error("geometry blob does not start with the GeoPackage magic 'GP'")]
    NotGeoPackage,
    #[error("unsupported WKB geometry type {0}")]
    UnsupportedType(u32),
    #[error("geometry blob has a bad envelope indicator {0}")]
    BadEnvelope(u8),
    #[error("empty geometries are not supported")]
    Empty,
}

/// Encodes `geometry` as a GeoPackage blob with an XY envelope.
///
/// # Examples
/// ```
/// use civmap::store::gpkg_geom::{decode, encode};
/// let p = geo::Geometry::Point(geo::Point::new(116.7, 39.5));
/// assert_eq!(decode(&encode(&p, 4326)).unwrap(), p);
/// ```
pub fn encode(geometry: &Geometry<f64>, srs_id: i32) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(b"GP");
    out.push(0); // version 1
    out.push(0b0000_0011); // little endian, envelope [minx, maxx, miny, maxy]
    out.extend_from_slice(&srs_id.to_le_bytes());
    let rect = geometry.bounding_rect().unwrap_or(geo::Rect::new(
        Coord { x: 0.0, y: 0.0 },
        Coord { x: 0.0, y: 0.0 },
    ));
    for v in [rect.min().x, rect.max().x, rect.min().y, rect.max().y] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    write_wkb(&mut out, geometry);
    out
}

/// The XY envelope `[minx, maxx, miny, maxy]` recorded in a blob's header, if any.
pub fn envelope(blob: &[u8]) -> Option<[f64; 4]> {
    let header = Header::read(blob).ok()?;
    if header.envelope_len == 0 {
        return None;
    }
    let mut env = [0.0; 4];
    for (i, slot) in env.iter_mut().enumerate() {
        let at = 8 + i * 8;
        let bytes: [u8; 8] = blob.get(at..at + 8)?.try_into().ok()?;
        *slot = if header.little_endian {
            f64::from_le_bytes(bytes)
        } else {
            f64::from_be_bytes(bytes)
        };
    }
    Some(env)
}

/// Whether the blob's header says the geometry is empty.
pub fn is_empty(blob: &[u8]) -> bool {
    blob.get(3).is_some_and(|flags| flags & 0b0001_0000 != 0)
}

/// Decodes a GeoPackage blob (any byte order; Z/M ordinates are dropped).
pub fn decode(blob: &[u8]) -> Result<Geometry<f64>, GeomError> {
    let header = Header::read(blob)?;
    if header.empty {
        return Err(GeomError::Empty);
    }
    let mut reader = WkbReader {
        bytes: blob,
        at: 8 + header.envelope_len,
    };
    reader.geometry()
}

struct Header {
    little_endian: bool,
    envelope_len: usize,
    empty: bool,
}

impl Header {
    fn read(blob: &[u8]) -> Result<Self, GeomError> {
        if blob.len() < 8 {
            return Err(GeomError::Truncated);
        }
        if &blob[0..2] != b"GP" {
            return Err(GeomError::NotGeoPackage);
        }
        let flags = blob[3];
        let envelope_len = match (flags >> 1) & 0b111 {
            0 => 0,
            1 => 32,
            2 | 3 => 48,
            4 => 64,
            other => return Err(GeomError::BadEnvelope(other)),
        };
        Ok(Self {
            little_endian: flags & 1 == 1,
            envelope_len,
            empty: flags & 0b0001_0000 != 0,
        })
    }
}

fn write_wkb(out: &mut Vec<u8>, geometry: &Geometry<f64>) {
    let head = |out: &mut Vec<u8>, code: u32| {
        out.push(1);
        out.extend_from_slice(&code.to_le_bytes());
    };
    let count = |out: &mut Vec<u8>, n: usize| out.extend_from_slice(&(n as u32).to_le_bytes());
    let coords = |out: &mut Vec<u8>, line: &LineString<f64>| {
        count(out, line.0.len());
        for c in &line.0 {
            out.extend_from_slice(&c.x.to_le_bytes());
            out.extend_from_slice(&c.y.to_le_bytes());
        }
    };
    let polygon = |out: &mut Vec<u8>, p: &Polygon<f64>| {
        head(out, 3);
        count(out, 1 + p.interiors().len());
        coords(out, p.exterior());
        for ring in p.interiors() {
            coords(out, ring);
        }
    };
    match geometry {
        Geometry::Point(p) => {
            head(out, 1);
            out.extend_from_slice(&p.x().to_le_bytes());
            out.extend_from_slice(&p.y().to_le_bytes());
        }
        Geometry::LineString(l) => {
            head(out, 2);
            coords(out, l);
        }
        Geometry::Polygon(p) => polygon(out, p),
        Geometry::MultiPoint(m) => {
            head(out, 4);
            count(out, m.0.len());
            for p in &m.0 {
                write_wkb(out, &Geometry::Point(*p));
            }
        }
        Geometry::MultiLineString(m) => {
            head(out, 5);
            count(out, m.0.len());
            for l in &m.0 {
                head(out, 2);
                coords(out, l);
            }
        }
        Geometry::MultiPolygon(m) => {
            head(out, 6);
            count(out, m.0.len());
            for p in &m.0 {
                polygon(out, p);
            }
        }
        other => {
            // Lines, rects and triangles never reach the store (the model refuses them);
            // store them as their polygon/line equivalent to stay total.
            let converted = match other {
                Geometry::Line(l) => Geometry::LineString(LineString::from(vec![l.start, l.end])),
                Geometry::Rect(r) => Geometry::Polygon(r.to_polygon()),
                Geometry::Triangle(t) => Geometry::Polygon(t.to_polygon()),
                _ => Geometry::MultiPoint(MultiPoint(vec![])),
            };
            write_wkb(out, &converted);
        }
    }
}

struct WkbReader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl WkbReader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], GeomError> {
        let slice = self
            .bytes
            .get(self.at..self.at + N)
            .ok_or(GeomError::Truncated)?;
        self.at += N;
        Ok(slice.try_into().expect("slice of length N"))
    }

    fn u32(&mut self, le: bool) -> Result<u32, GeomError> {
        let b = self.take::<4>()?;
        Ok(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    fn f64(&mut self, le: bool) -> Result<f64, GeomError> {
        let b = self.take::<8>()?;
        Ok(if le {
            f64::from_le_bytes(b)
        } else {
            f64::from_be_bytes(b)
        })
    }

    /// A count that cannot be larger than the bytes left (guards against huge allocations).
    fn count(&mut self, le: bool, min_item_len: usize) -> Result<usize, GeomError> {
        let n = self.u32(le)? as usize;
        if n.saturating_mul(min_item_len) > self.bytes.len().saturating_sub(self.at) {
            return Err(GeomError::Truncated);
        }
        Ok(n)
    }

    fn coord(&mut self, le: bool, dims: usize) -> Result<Coord<f64>, GeomError> {
        let x = self.f64(le)?;
        let y = self.f64(le)?;
        for _ in 2..dims {
            self.f64(le)?;
        }
        Ok(Coord { x, y })
    }

    fn line(&mut self, le: bool, dims: usize) -> Result<LineString<f64>, GeomError> {
        let n = self.count(le, 8 * dims)?;
        (0..n)
            .map(|_| self.coord(le, dims))
            .collect::<Result<Vec<_>, _>>()
            .map(LineString)
    }

    fn polygon(&mut self, le: bool, dims: usize) -> Result<Polygon<f64>, GeomError> {
        let rings = self.count(le, 4)?;
        if rings == 0 {
            return Err(GeomError::Empty);
        }
        let exterior = self.line(le, dims)?;
        let interiors = (1..rings)
            .map(|_| self.line(le, dims))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Polygon::new(exterior, interiors))
    }

    fn geometry(&mut self) -> Result<Geometry<f64>, GeomError> {
        let le = self.take::<1>()?[0] == 1;
        let code = self.u32(le)?;
        let (base, dims) = match code {
            1..=6 => (code, 2),
            1001..=1006 | 2001..=2006 => (code % 1000, 3),
            3001..=3006 => (code % 1000, 4),
            other => return Err(GeomError::UnsupportedType(other)),
        };
        let parts = |reader: &mut Self| -> Result<Vec<Geometry<f64>>, GeomError> {
            let n = reader.count(le, 5)?;
            (0..n).map(|_| reader.geometry()).collect()
        };
        Ok(match base {
            1 => Geometry::Point(Point(self.coord(le, dims)?)),
            2 => Geometry::LineString(self.line(le, dims)?),
            3 => Geometry::Polygon(self.polygon(le, dims)?),
            4 => Geometry::MultiPoint(MultiPoint(
                parts(self)?
                    .into_iter()
                    .filter_map(|g| match g {
                        Geometry::Point(p) => Some(p),
                        _ => None,
                    })
                    .collect(),
            )),
            5 => Geometry::MultiLineString(MultiLineString(
                parts(self)?
                    .into_iter()
                    .filter_map(|g| match g {
                        Geometry::LineString(l) => Some(l),
                        _ => None,
                    })
                    .collect(),
            )),
            _ => Geometry::MultiPolygon(MultiPolygon(
                parts(self)?
                    .into_iter()
                    .filter_map(|g| match g {
                        Geometry::Polygon(p) => Some(p),
                        _ => None,
                    })
                    .collect(),
            )),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{line_string, polygon};

    #[test]
    fn every_supported_geometry_round_trips() {
        let line = line_string![(x: 116.6, y: 39.5), (x: 116.7, y: 39.51)];
        let poly = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 0.0)];
        let cases = vec![
            Geometry::Point(Point::new(116.7, 39.5)),
            Geometry::LineString(line.clone()),
            Geometry::Polygon(poly.clone()),
            Geometry::MultiPoint(MultiPoint(vec![Point::new(1.0, 2.0), Point::new(3.0, 4.0)])),
            Geometry::MultiLineString(MultiLineString(vec![line.clone(), line])),
            Geometry::MultiPolygon(MultiPolygon(vec![poly.clone(), poly])),
        ];
        for g in cases {
            assert_eq!(decode(&encode(&g, 4326)).unwrap(), g);
        }
    }

    #[test]
    fn the_header_carries_the_envelope() {
        let line = Geometry::LineString(line_string![(x: 1.0, y: 5.0), (x: 3.0, y: 2.0)]);
        assert_eq!(envelope(&encode(&line, 4326)), Some([1.0, 3.0, 2.0, 5.0]));
    }

    #[test]
    fn truncated_or_foreign_blobs_are_errors_not_panics() {
        let blob = encode(
            &Geometry::LineString(line_string![(x: 1.0, y: 5.0), (x: 3.0, y: 2.0)]),
            4326,
        );
        for cut in 0..blob.len() {
            assert!(decode(&blob[..cut]).is_err());
        }
        assert_eq!(decode(b"XX\0\x03abcd"), Err(GeomError::NotGeoPackage));
        let mut huge = blob.clone();
        huge[8 + 32 + 5..8 + 32 + 9].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(decode(&huge), Err(GeomError::Truncated));
    }
}
