//! Reference data the demo population is drawn from.

pub const FIRST_NAMES: &[&str] = &[
    "Amelia", "Ben", "Chloe", "Daniel", "Elena", "Felix", "Grace", "Hiro", "Isabel", "Jonas",
    "Kavya", "Liam", "Maya", "Noah", "Olivia", "Pedro", "Quinn", "Rosa", "Sven", "Tara", "Umar",
    "Vera", "Wei", "Ximena", "Yusuf", "Zoe", "Aiko", "Bruno", "Carmen", "Dmitri", "Emeka",
    "Fatima", "Giulia", "Hannah", "Ivan", "Julia", "Kenji", "Lena", "Mateo", "Nadia", "Oscar",
    "Priya", "Rafael", "Sofia", "Tomas", "Ana", "Lucas", "Mei", "Nikolai", "Sara",
];

pub const LAST_NAMES: &[&str] = &[
    "Smith",
    "Müller",
    "García",
    "Tanaka",
    "Rossi",
    "Kowalski",
    "Nguyen",
    "Okafor",
    "Silva",
    "Johansson",
    "Dubois",
    "Kim",
    "Patel",
    "Cohen",
    "O'Brien",
    "Novak",
    "Fischer",
    "Haddad",
    "Moreau",
    "Sato",
    "Jensen",
    "López",
    "Ivanova",
    "Andersen",
    "Costa",
    "Yilmaz",
    "Schmidt",
    "Martin",
    "Wang",
    "Singh",
    "Brown",
    "Nakamura",
    "Petrov",
    "Hughes",
    "Santos",
    "Meyer",
    "Kaur",
    "Lindqvist",
    "Fernández",
    "Wójcik",
];

pub const DEPARTMENTS: &[&str] = &[
    "Finance",
    "Human Resources",
    "Engineering",
    "Sales",
    "Support",
    "Legal",
    "Operations",
    "Marketing",
    "IT",
    "Research",
    "Facilities",
    "Admissions",
];

pub const ORGANISATIONS: &[&str] = &[
    "Head Office",
    "North Campus",
    "South Campus",
    "Research Lab",
    "Field Services",
];

pub const SERVERS: &[&str] = &["app-01", "app-02", "app-03", "app-04"];

/// A country (named in the comment of each entry) with one IPv4 and one IPv6 block
/// registered there.
pub struct Network {
    pub v4: ([u8; 4], u8),
    pub v6: ([u16; 8], u8),
    /// Relative weight of users living there.
    pub weight: u32,
}

pub const NETWORKS: &[Network] = &[
    Network {
        v4: ([84, 128, 0, 0], 10),
        v6: ([0x2003, 0, 0, 0, 0, 0, 0, 0], 19),
        weight: 30,
    }, // DE
    Network {
        v4: ([24, 0, 0, 0], 8),
        v6: ([0x2600, 0x1700, 0, 0, 0, 0, 0, 0], 28),
        weight: 25,
    }, // US
    Network {
        v4: ([81, 96, 0, 0], 12),
        v6: ([0x2a00, 0x23c0, 0, 0, 0, 0, 0, 0], 26),
        weight: 15,
    }, // GB
    Network {
        v4: ([90, 0, 0, 0], 9),
        v6: ([0x2a01, 0xcb00, 0, 0, 0, 0, 0, 0], 24),
        weight: 10,
    }, // FR
    Network {
        v4: ([126, 0, 0, 0], 8),
        v6: ([0x240b, 0, 0, 0, 0, 0, 0, 0], 16),
        weight: 6,
    }, // JP
    Network {
        v4: ([177, 0, 0, 0], 8),
        v6: ([0x2804, 0, 0, 0, 0, 0, 0, 0], 16),
        weight: 5,
    }, // BR
    Network {
        v4: ([1, 120, 0, 0], 13),
        v6: ([0x2001, 0x8003, 0, 0, 0, 0, 0, 0], 32),
        weight: 4,
    }, // AU
    Network {
        v4: ([117, 192, 0, 0], 10),
        v6: ([0x2401, 0x4900, 0, 0, 0, 0, 0, 0], 24),
        weight: 5,
    }, // IN
];

/// The office network (sessions from inside the organisation).
pub const OFFICE_V4: ([u8; 4], u8) = ([10, 20, 0, 0], 16);

pub struct Agent {
    pub ua: &'static str,
    pub session_type: &'static str,
    pub weight: u32,
}

pub const AGENTS: &[Agent] = &[
    Agent {
        ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        session_type: "ui",
        weight: 30,
    },
    Agent {
        ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86",
        session_type: "ui",
        weight: 14,
    },
    Agent {
        ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        session_type: "ui",
        weight: 12,
    },
    Agent {
        ua: "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        session_type: "ui",
        weight: 6,
    },
    Agent {
        ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
        session_type: "ui",
        weight: 5,
    },
    Agent {
        ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        session_type: "ui",
        weight: 8,
    },
    Agent {
        ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        session_type: "mobile",
        weight: 8,
    },
    Agent {
        ua: "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
        session_type: "mobile",
        weight: 6,
    },
    Agent {
        ua: "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
        session_type: "mobile",
        weight: 2,
    },
    Agent {
        ua: "python-requests/2.32.3",
        session_type: "api",
        weight: 3,
    },
    Agent {
        ua: "curl/8.5.0",
        session_type: "api",
        weight: 2,
    },
    Agent {
        ua: "okhttp/4.12.0",
        session_type: "oauth",
        weight: 2,
    },
    Agent {
        ua: "PostmanRuntime/7.42.0",
        session_type: "api",
        weight: 1,
    },
    Agent {
        ua: "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
        session_type: "oauth",
        weight: 3,
    },
];
