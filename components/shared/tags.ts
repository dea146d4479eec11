/**
 * Tags every taggable resource carries. The policy pack requires `environment` and `managed-by`,
 * and cost reports group by `component`.
 */
export function standardTags(environment: string, component: string, extra: Record<string, string> = {}): Record<string, string> {
    return { ...extra, environment, "managed-by": "alertline", component };
}
