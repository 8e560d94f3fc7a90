//! Frozen record classes for Python: each field a read-only attribute, `==` by value, a `repr` that reads like
//! the constructor call, and `__match_args__` in field order so that `match` can take the fields by position.

/// A Python-style `repr` of a field value.
pub trait Repr {
    fn repr(&self) -> String;
}

impl Repr for String {
    fn repr(&self) -> String {
        format!("'{}'", self.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

impl Repr for &'static str {
    fn repr(&self) -> String {
        (*self).to_owned().repr()
    }
}

macro_rules! display_repr {
    ($($t:ty),*) => {
        $(impl Repr for $t {
            fn repr(&self) -> String {
                self.to_string()
            }
        })*
    };
}
display_repr!(u64, i64, usize, f64);

impl Repr for bool {
    fn repr(&self) -> String {
        (if *self { "True" } else { "False" }).to_owned()
    }
}

impl<T: Repr> Repr for Option<T> {
    fn repr(&self) -> String {
        self.as_ref().map_or_else(|| "None".to_owned(), Repr::repr)
    }
}

impl<A: Repr, B: Repr> Repr for (A, B) {
    fn repr(&self) -> String {
        format!("({}, {})", self.0.repr(), self.1.repr())
    }
}

impl<T: Repr> Repr for Vec<T> {
    fn repr(&self) -> String {
        let items: Vec<String> = self.iter().map(Repr::repr).collect();
        format!("[{}]", items.join(", "))
    }
}

impl<K: Repr, V: Repr> Repr for std::collections::BTreeMap<K, V> {
    fn repr(&self) -> String {
        let items: Vec<String> = self
            .iter()
            .map(|(k, v)| format!("{}: {}", k.repr(), v.repr()))
            .collect();
        format!("{{{}}}", items.join(", "))
    }
}

/// Declares a frozen, final Python class `$name` (Rust type `$py`) whose fields are read-only attributes, with
/// `__eq__` by value, a constructor-like `__repr__` and `__match_args__` in field order.
macro_rules! record_class {
    (
        $(#[doc = $doc:literal])*
        $py:ident as $name:literal {
            $($(#[doc = $fdoc:literal])* $field:ident: $ty:ty),+ $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[pyo3::pyclass(frozen, eq, get_all, name = $name, module = "tapeflow._core")]
        #[derive(Debug, Clone, PartialEq)]
        pub struct $py {
            $($(#[doc = $fdoc])* pub(crate) $field: $ty),+
        }

        #[pyo3::pymethods]
        impl $py {
            #[classattr]
            fn __match_args__(py: pyo3::Python<'_>) -> pyo3::PyResult<pyo3::Py<pyo3::types::PyTuple>> {
                pyo3::types::PyTuple::new(py, [$(stringify!($field)),+]).map(pyo3::Bound::unbind)
            }

            fn __repr__(&self) -> String {
                use $crate::python::record::Repr as _;
                let fields: Vec<String> = vec![$(format!("{}={}", stringify!($field), self.$field.repr())),+];
                format!("{}({})", $name, fields.join(", "))
            }
        }
    };
}

pub(crate) use record_class;
