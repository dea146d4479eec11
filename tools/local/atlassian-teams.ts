import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Atlassian's Teams public REST API (the part `JsmCreatedTeam` calls) plus the ops REST API's
 * enable-ops, on one local server. Written from Atlassian's Teams REST API reference
 * (developer.atlassian.com/platform/teams/rest/v1/api-group-teams-public-api/: create a team with
 * displayName, description, teamType, optional siteId; "adds the requesting user as the initial
 * member"; get by orgId and teamId) and the Atlassian Terraform provider
 * (internal/provider/team_resource.go, internal/dto/team.go, list_response.go):
 *
 *   POST   /gateway/api/public/teams/v1/org/{orgId}/teams/                  create (displayName, description, teamType required)
 *   GET    /gateway/api/public/teams/v1/org/{orgId}/teams/{teamId}          get
 *   PATCH  /gateway/api/public/teams/v1/org/{orgId}/teams/{teamId}          update (displayName, description)
 *   DELETE /gateway/api/public/teams/v1/org/{orgId}/teams/{teamId}          delete
 *   POST   /gateway/api/public/teams/v1/org/{orgId}/teams/{teamId}/members  list {first, after} → {results, pageInfo}
 *   POST   …/members/add | …/members/remove                                  {members: [{accountId}]} → {members?, errors}
 *   POST   /jsm/ops/api/{cloudId}/v1/teams/{teamId}/enable-ops              {platformTeamId, adminAccountIds, inviteUsernames}
 *
 * Strict: Basic auth with the account e-mail and API token only (the Teams API reference's
 * "curl -u fred@example.com:freds_api_token"); another org or cloud ID, path, method, an unknown or
 * missing field is refused. Unconfirmed (chosen strictly here): the status codes (create 201,
 * delete 204), the error shape (`{"errors":[{"title"}]}` like the ops API), whether PATCH takes a
 * subset of fields, what enable-ops answers when called twice (409 here) and for a team not yet
 * visible to JSM (the provider retries 404 and 422; never here).
 */

export interface AtlassianTeamsOptions {
    readonly organizationId: string;
    readonly cloudId: string;
    readonly email: string;
    readonly apiToken: string;
    /** Account ids that exist in the organization; any other is refused per member (errors list). */
    readonly accounts: readonly string[];
    /** Members per page of the members list when `first` is larger. Default 50. */
    readonly pageSize?: number;
}

export interface AtlassianTeam {
    readonly teamId: string;
    displayName: string;
    description: string;
    readonly teamType: string;
    members: string[];
    opsEnabled: boolean;
    opsAdmins: string[];
}

export interface AtlassianTeamsRequest {
    readonly method: string;
    readonly path: string;
    readonly body: unknown;
    readonly auth: "basic" | "other" | "none";
    readonly status: number;
}

export interface AtlassianTeamsStandIn {
    readonly url: string;
    readonly requests: AtlassianTeamsRequest[];
    /** Requests the service would refuse whatever its state (path, method, auth scheme, body). */
    readonly violations: string[];
    teams(): AtlassianTeam[];
    deleteByHand(teamId: string): boolean;
    /** Answers before authentication and validation (for retries); undefined lets the stand-in answer. */
    script(answer: ((method: string, path: string) => { status: number; body?: Record<string, unknown> } | undefined) | undefined): void;
    close(): Promise<void>;
}

const TEAM_TYPES = ["OPEN", "MEMBER_INVITE", "EXTERNAL"];

/** Problems of a create or update body, one per field. Pure. */
export function teamBodyProblems(body: unknown, mode: "create" | "update"): string[] {
    if (typeof body !== "object" || body === null || Array.isArray(body)) return ["the body must be a JSON object"];
    const b = body as Record<string, unknown>;
    // The provider sends its whole TeamDto (no omitempty): its answer-only fields come back (organizationId, teamId,
    // userPermissions, siteId null), so the service accepts them; they are accepted and ignored here too.
    const ignored = ["organizationId", "teamId", "userPermissions"];
    const known = [...(mode === "create" ? ["displayName", "description", "teamType", "siteId"] : ["displayName", "description", "teamType", "siteId"]), ...ignored];
    const problems = Object.keys(b).filter((k) => !known.includes(k)).map((k) => `${k} is not a known field`);
    for (const k of mode === "create" ? ["displayName", "description", "teamType"] : []) if (b[k] === undefined) problems.push(`${k} is required`);
    if (b.displayName !== undefined && (typeof b.displayName !== "string" || b.displayName.trim() === "")) problems.push("displayName must be a non-empty string");
    if (b.description !== undefined && typeof b.description !== "string") problems.push("description must be a string");
    if (b.teamType !== undefined && !TEAM_TYPES.includes(b.teamType as string)) problems.push(`teamType must be one of ${TEAM_TYPES.join(", ")}`);
    if (b.siteId !== undefined && b.siteId !== null && (typeof b.siteId !== "string" || b.siteId === "")) problems.push("siteId must be a non-empty string or null");
    return problems;
}

function membersOf(body: unknown): string[] | undefined {
    if (typeof body !== "object" || body === null) return undefined;
    const b = body as Record<string, unknown>;
    if (Object.keys(b).some((k) => k !== "members") || !Array.isArray(b.members) || b.members.length === 0) return undefined;
    const ids = b.members.map((m) => (typeof m === "object" && m !== null && Object.keys(m).length === 1 ? (m as { accountId?: unknown }).accountId : undefined));
    return ids.every((id): id is string => typeof id === "string" && id !== "") ? ids : undefined;
}

export async function startAtlassianTeams(options: AtlassianTeamsOptions): Promise<AtlassianTeamsStandIn> {
    const requests: AtlassianTeamsRequest[] = [];
    const violations: string[] = [];
    const teams: AtlassianTeam[] = [];
    const expected = `Basic ${Buffer.from(`${options.email}:${options.apiToken}`, "utf8").toString("base64")}`;
    let scripted: ((method: string, path: string) => { status: number; body?: Record<string, unknown> } | undefined) | undefined;
    // The requesting account: the Teams API makes it the first member. An account id of the organization stands for it.
    const requester = options.accounts[0];

    function handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
        const method = req.method ?? "";
        const path = new URL(req.url ?? "/", "http://localhost").pathname;
        const auth: AtlassianTeamsRequest["auth"] = req.headers.authorization === undefined ? "none" : /^Basic\s/i.test(req.headers.authorization) ? "basic" : "other";
        const text = raw.toString("utf8");
        let body: unknown;
        try {
            body = text.trim() === "" ? undefined : JSON.parse(text);
        } catch {
            body = text;
        }
        const answer = (status: number, payload?: Record<string, unknown>) => {
            requests.push({ method, path, body, auth, status });
            res.writeHead(status, payload === undefined ? {} : { "content-type": "application/json" });
            res.end(payload === undefined ? undefined : JSON.stringify(payload));
        };
        const refuse = (status: number, title: string, contract = true) => {
            if (contract) violations.push(`${status} ${method} ${path}: ${title}`);
            answer(status, { errors: [{ title }] });
        };
        const script = scripted?.(method, path);
        if (script !== undefined) return answer(script.status, script.body ?? { errors: [{ title: `Scripted answer ${script.status}` }] });

        const org = `/gateway/api/public/teams/v1/org/${encodeURIComponent(options.organizationId)}/teams`;
        const ops = /^\/jsm\/ops\/api\/([^/]+)\/v1\/teams\/([^/]+)\/enable-ops$/.exec(path);
        const teamsApi = /^\/gateway\/api\/public\/teams\/v1\/org\/([^/]+)\/teams(\/([^/]*)(\/members(\/(add|remove))?)?)?$/.exec(path);
        if (ops === null && teamsApi === null) return refuse(404, `No such resource: ${method} ${path}`);
        if (auth !== "basic") return refuse(401, "Authentication required: Basic auth with the account e-mail and an API token");
        if (req.headers.authorization !== expected) return refuse(401, "Client must be authenticated to access this resource: the e-mail or API token is wrong", false);

        if (ops !== null) {
            if (ops[1] !== encodeURIComponent(options.cloudId)) return refuse(404, `Site ${ops[1]} not found`, false);
            if (method !== "POST") return refuse(405, "Method not allowed; use POST");
            const team = teams.find((t) => t.teamId === decodeURIComponent(ops[2]));
            if (team === undefined) return refuse(404, `Team ${ops[2]} not found`, false);
            const b = body as Record<string, unknown> | undefined;
            const known = ["platformTeamId", "adminAccountIds", "inviteUsernames"];
            if (typeof b !== "object" || b === null || Object.keys(b).some((k) => !known.includes(k))) return refuse(422, `The body takes only ${known.join(", ")}`);
            if (b.platformTeamId !== team.teamId) return refuse(422, "platformTeamId must be the team in the path");
            if (!Array.isArray(b.adminAccountIds) || b.adminAccountIds.length === 0 || !b.adminAccountIds.every((a) => team.members.includes(a as string))) return refuse(422, "adminAccountIds must list members of the team");
            if (!Array.isArray(b.inviteUsernames)) return refuse(422, "inviteUsernames must be a list");
            if (team.opsEnabled) return refuse(409, "Operations are already enabled for this team", false);
            team.opsEnabled = true;
            team.opsAdmins = [...(b.adminAccountIds as string[])];
            return answer(200, { result: "Operations enabled" });
        }

        const [, orgId, , teamPart, members, , change] = teamsApi!;
        if (`/gateway/api/public/teams/v1/org/${orgId}/teams` !== org) return refuse(403, `The account is not in organization ${orgId}`, false);
        if (teamPart === undefined || teamPart === "") {
            if (teamPart === undefined) return refuse(404, "Create takes the path …/teams/ (with the trailing slash)");
            if (method !== "POST") return refuse(405, "Method not allowed; use POST");
            const problems = teamBodyProblems(body, "create");
            if (problems.length > 0) return refuse(400, problems.join("; "));
            const b = body as Record<string, string>;
            const team: AtlassianTeam = { teamId: randomUUID(), displayName: b.displayName, description: b.description, teamType: b.teamType, members: [requester], opsEnabled: false, opsAdmins: [] };
            teams.push(team);
            return answer(201, { teamId: team.teamId, displayName: team.displayName, description: team.description, organizationId: options.organizationId, teamType: team.teamType });
        }
        const i = teams.findIndex((t) => t.teamId === decodeURIComponent(teamPart));
        if (members === undefined) {
            if (!["GET", "PATCH", "DELETE"].includes(method)) return refuse(405, "Method not allowed; use GET, PATCH, DELETE");
            if (method !== "PATCH" && body !== undefined) return refuse(400, `${method} takes no body`);
            if (i < 0) return refuse(404, `Team ${teamPart} not found`, false);
            const team = teams[i];
            if (method === "DELETE") {
                teams.splice(i, 1);
                return answer(204);
            }
            if (method === "PATCH") {
                const problems = teamBodyProblems(body, "update");
                if (problems.length > 0) return refuse(400, problems.join("; "));
                const b = body as Record<string, unknown>;
                if (b.teamType !== undefined && b.teamType !== team.teamType) return refuse(400, "teamType cannot be changed");
                if (typeof b.displayName === "string") team.displayName = b.displayName;
                if (typeof b.description === "string") team.description = b.description;
            }
            return answer(200, { teamId: team.teamId, displayName: team.displayName, description: team.description, organizationId: options.organizationId, teamType: team.teamType });
        }
        if (method !== "POST") return refuse(405, "Method not allowed; use POST");
        if (i < 0) return refuse(404, `Team ${teamPart} not found`, false);
        const team = teams[i];
        if (change === undefined) {
            const b = (body ?? {}) as Record<string, unknown>;
            if (Object.keys(b).some((k) => k !== "first" && k !== "after") || typeof b.first !== "number" || b.first < 1) return refuse(400, "The body takes first (a number of 1 or more) and after");
            const size = Math.min(b.first, options.pageSize ?? 50);
            const start = typeof b.after === "string" ? Number.parseInt(b.after, 10) : 0;
            const slice = team.members.slice(start, start + size);
            const more = start + size < team.members.length;
            return answer(200, { results: slice.map((accountId) => ({ accountId })), pageInfo: { hasNextPage: more, endCursor: more ? String(start + size) : "" } });
        }
        const ids = membersOf(body);
        if (ids === undefined) return refuse(400, "members must be a non-empty list of {accountId}");
        const errors = ids.filter((id) => !options.accounts.includes(id)).map((accountId) => ({ accountId, code: "USER_NOT_FOUND" }));
        const good = ids.filter((id) => options.accounts.includes(id));
        if (change === "add") team.members.push(...good.filter((id) => !team.members.includes(id)));
        else team.members = team.members.filter((m) => !good.includes(m));
        return answer(200, change === "add" ? { members: good.map((accountId) => ({ accountId })), errors } : { errors });
    }

    const server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => handle(req, res, Buffer.concat(chunks)));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
        url,
        requests,
        violations,
        teams: () => teams.map((t) => ({ ...t, members: [...t.members], opsAdmins: [...t.opsAdmins] })),
        deleteByHand(teamId) {
            const i = teams.findIndex((t) => t.teamId === teamId);
            if (i >= 0) teams.splice(i, 1);
            return i >= 0;
        },
        script(answer) {
            scripted = answer;
        },
        close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
    };
}
