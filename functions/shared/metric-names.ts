/**
 * Names of the metrics the functions write and the infrastructure reads (alarms, the role's
 * `cloudwatch:namespace` grant): one definition, imported by both sides, so they cannot drift.
 */

/** The tower probe's namespace; the dispatch role may write this namespace only. */
export const TOWER_METRIC_NAMESPACE = "alertline/Towers";
/** 1 when the tower answered its status read, 0 when not, per Environment and Tower. */
export const TOWER_REACHABLE_METRIC = "TowerReachable";
