//! API twins of the entities' enums: the same variants, spelt in snake_case in the contract,
//! with conversions both ways, so entities stay free of HTTP types.

/// `mirror_enum! { /// doc  ViewName as "SchemaName" <=> entity::Path { A, B } }`
#[macro_export]
macro_rules! mirror_enum {
    ($(#[$doc:meta])* $view:ident as $name:literal <=> $($entity:ident)::+ { $($variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, poem_openapi::Enum)]
        #[oai(rename = $name, rename_all = "snake_case")]
        pub enum $view {
            $($variant,)+
        }

        impl From<$($entity)::+> for $view {
            fn from(value: $($entity)::+) -> Self {
                use $($entity)::+ as Entity;
                match value {
                    $(Entity::$variant => Self::$variant,)+
                }
            }
        }

        impl From<$view> for $($entity)::+ {
            fn from(value: $view) -> Self {
                use $($entity)::+ as Entity;
                match value {
                    $($view::$variant => Entity::$variant,)+
                }
            }
        }
    };
}
