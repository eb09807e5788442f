//! health-probe (being built).
