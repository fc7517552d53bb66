//! The etcd backend of [`ConfigWriter`]: the fragment is one etcd key (the one gateways merge
//! from `etcd.prefix`), and a write is the conditional put `gateway gray put --expect-revision`
//! makes ([`EtcdClient::put_if`] with the key's `mod_revision`), so two controllers (or a
//! controller and an operator) racing on one fragment cannot both win: the loser gets
//! [`WriteError::Conflict`] and stops.

use ::fleet::{Conditional, EtcdClient, Expect};

use crate::fragment::{self, FragmentError};
use crate::writer::{ConfigWriter, Fragment, Revision, WriteError};

/// A fragment kept in etcd at `key`.
#[derive(Debug)]
pub struct EtcdWriter {
    client: EtcdClient,
    key: String,
    rule: String,
}

impl EtcdWriter {
    /// A writer for rule `rule` in the fragment at `key`, through `client`.
    pub fn new(client: EtcdClient, key: &str, rule: &str) -> EtcdWriter {
        EtcdWriter {
            client,
            key: key.to_owned(),
            rule: rule.to_owned(),
        }
    }

    fn store(&self, error: impl std::fmt::Display) -> WriteError {
        WriteError::Store {
            location: self.location(),
            message: error.to_string(),
        }
    }

    fn fragment(&self, source: FragmentError) -> WriteError {
        WriteError::Fragment {
            location: self.location(),
            source,
        }
    }

    /// The key's text and `mod_revision`.
    fn read_text(&self) -> Result<(String, i64), WriteError> {
        let kv = self
            .client
            .get(&self.key)
            .map_err(|e| self.store(e))?
            .ok_or_else(|| self.store("the key does not exist"))?;
        let text = String::from_utf8(kv.value).map_err(|_| self.store("not UTF-8 text"))?;
        Ok((text, kv.mod_revision))
    }
}

impl ConfigWriter for EtcdWriter {
    fn location(&self) -> String {
        format!("etcd:{}", self.key)
    }

    fn read(&self) -> Result<Fragment, WriteError> {
        let (text, mod_revision) = self.read_text()?;
        let percent = fragment::rule_percent(&text, &self.rule).map_err(|e| self.fragment(e))?;
        Ok(Fragment {
            percent,
            revision: Revision(mod_revision.to_string()),
        })
    }

    fn write_percent(&self, percent: u8, expected: &Revision) -> Result<Revision, WriteError> {
        let (text, mod_revision) = self.read_text()?;
        let conflict = |found: String| WriteError::Conflict {
            location: self.location(),
            expected: expected.0.clone(),
            found,
        };
        if mod_revision.to_string() != expected.0 {
            return Err(conflict(mod_revision.to_string()));
        }
        let changed =
            fragment::set_rule_percent(&text, &self.rule, percent).map_err(|e| self.fragment(e))?;
        if changed == text {
            return Ok(expected.clone());
        }
        // The revision compared is the one just read and checked against `expected`, so a write
        // by anyone since the caller's read loses here, in etcd, not in a window of ours.
        match self
            .client
            .put_if(
                &self.key,
                changed.as_bytes(),
                Expect::ModRevision(mod_revision),
                None,
            )
            .map_err(|e| self.store(e))?
        {
            Conditional::Done { revision } => Ok(Revision(revision.to_string())),
            Conditional::KeyChanged { current } => Err(conflict(
                current.map_or_else(|| "deleted".to_owned(), |kv| kv.mod_revision.to_string()),
            )),
            // Only the key is compared: a percent change does not change what the other
            // fragments hold, so the set needs no second check.
            Conditional::PrefixChanged { revision } => Err(conflict(revision.to_string())),
        }
    }
}
