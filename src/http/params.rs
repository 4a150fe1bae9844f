//! Query-string parameters turned into validated values once, with 400s that name the parameter.

use super::error::AppError;

/// The decoded `?a=b&c=d` of a request, in order.
#[derive(Debug, Default, Clone)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(raw: Option<&str>) -> Self {
        Self(
            form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The last value given for `name`, if non-empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    pub fn text(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_string)
    }

    fn number(&self, name: &str) -> Result<Option<f64>, AppError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => match v.trim().parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(Some(x)),
                _ => Err(AppError::bad_request(format!(
                    "parameter {name}={v:?} is not a finite number"
                ))),
            },
        }
    }

    /// A required number within `range` (inclusive).
    pub fn number_in(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<f64>,
    ) -> Result<f64, AppError> {
        let x = self
            .number(name)?
            .ok_or_else(|| AppError::bad_request(format!("parameter {name} is required")))?;
        if !range.contains(&x) {
            return Err(AppError::bad_request(format!(
                "parameter {name}={x} is outside {}..{}",
                range.start(),
                range.end()
            )));
        }
        Ok(x)
    }

    /// A required WGS84 position from `lon` and `lat`.
    pub fn lon_lat(&self) -> Result<(f64, f64), AppError> {
        Ok((
            self.number_in("lon", -180.0..=180.0)?,
            self.number_in("lat", -90.0..=90.0)?,
        ))
    }

    /// An optional count, `default` when absent, refused when above `max`.
    pub fn count(
        &self,
        name: &str,
        default: usize,
        min: usize,
        max: usize,
    ) -> Result<usize, AppError> {
        let Some(v) = self.get(name) else {
            return Ok(default);
        };
        match v.trim().parse::<usize>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(AppError::bad_request(format!(
                "parameter {name}={v:?} must be a whole number from {min} to {max}"
            ))),
        }
    }

    /// The comma-separated `kind` parameter (empty when absent).
    pub fn kinds(&self) -> Vec<String> {
        self.get("kind")
            .map(|v| {
                v.split(',')
                    .map(|k| k.trim().to_string())
                    .filter(|k| !k.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The query string again with `name` set to `value` (for paging links).
    pub fn with(&self, name: &str, value: &str) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in self.0.iter().filter(|(k, _)| k != name) {
            out.append_pair(k, v);
        }
        out.append_pair(name, value);
        out.finish()
    }
}
