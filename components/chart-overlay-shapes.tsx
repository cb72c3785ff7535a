import {
  SEVERITY_FILL,
  type DeploymentMarker,
  type IncidentSpan,
} from "@/components/chart-overlays";

// SVG shapes that recharts' ReferenceLine and ReferenceArea draw for the
// deployment markers and incident spans of a series chart. Each shape
// carries a <title>, which browsers show as a tooltip, and a data-testid.

/** Narrowest incident span in pixels, so a short incident stays visible and clickable. */
const MIN_SPAN_WIDTH = 3;
/** Height of the solid strip along the top of an incident span, in pixels. */
const SPAN_STRIP_HEIGHT = 4;
/** Deployment marker colour: Tailwind's sky-600. */
const DEPLOYMENT_STROKE = "#0284c7";

type LineShapeProps = { x1?: number; y1?: number; x2?: number; y2?: number };
type RectShapeProps = { x?: number; y?: number; width?: number; height?: number };

/** Draws a deployment marker: a dashed vertical line with a flag at the top. */
export function DeploymentMarkerShape({
  marker,
  ...line
}: LineShapeProps & { marker: DeploymentMarker }) {
  const { x1, y1, y2 } = line;
  if (x1 === undefined || y1 === undefined || y2 === undefined) return <g />;
  const top = Math.min(y1, y2);
  return (
    <g
      data-testid="deployment-marker"
      data-count={marker.deployments.length}
      data-versions={marker.deployments.map((d) => d.version).join(" ")}
      aria-label={marker.title}
      role="img"
    >
      <title>{marker.title}</title>
      <line
        x1={x1}
        x2={x1}
        y1={y1}
        y2={y2}
        stroke={DEPLOYMENT_STROKE}
        strokeWidth={1.5}
        strokeDasharray="4 3"
      />
      {/* A wider transparent line makes the marker easy to hover. */}
      <line x1={x1} x2={x1} y1={y1} y2={y2} stroke="transparent" strokeWidth={9} />
      <path
        d={`M ${x1} ${top} l 7 3.5 l -7 3.5 z`}
        fill={DEPLOYMENT_STROKE}
      />
    </g>
  );
}

/** Draws an incident span as a tinted area with a solid strip along the top, as a link. */
export function IncidentSpanShape({
  span,
  href,
  ...rect
}: RectShapeProps & { span: IncidentSpan; href: string }) {
  const { x, y, width, height } = rect;
  if (x === undefined || y === undefined || width === undefined || height === undefined) {
    return <g />;
  }
  const fill = SEVERITY_FILL[span.severity];
  const drawnWidth = Math.max(Math.abs(width), MIN_SPAN_WIDTH);
  const left = Math.min(x, x + width);
  return (
    <a
      href={href}
      data-testid="incident-span"
      data-severity={span.severity}
      data-incidents={span.incidents.map((incident) => incident.id).join(" ")}
      aria-label={span.title}
    >
      <title>{span.title}</title>
      <rect x={left} y={y} width={drawnWidth} height={height} fill={fill} fillOpacity={0.15} />
      <rect
        x={left}
        y={y}
        width={drawnWidth}
        height={SPAN_STRIP_HEIGHT}
        fill={fill}
        fillOpacity={0.85}
      />
    </a>
  );
}
