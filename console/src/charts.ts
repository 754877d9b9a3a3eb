// ECharts from its core with only the charts and components the console
// draws, to keep the initial JavaScript small (the traffic map's graph
// chart is registered by its page, loaded on first visit).
import * as echarts from 'echarts/core'
import { LineChart, SankeyChart } from 'echarts/charts'
import {
  GridComponent,
  TooltipComponent,
  LegendComponent,
  MarkAreaComponent,
  BrushComponent,
  ToolboxComponent,
  AriaComponent,
} from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'

echarts.use([
  LineChart,
  SankeyChart,
  GridComponent,
  TooltipComponent,
  LegendComponent,
  MarkAreaComponent,
  BrushComponent,
  ToolboxComponent,
  AriaComponent,
  CanvasRenderer,
])

export { echarts }
export type { EChartsCoreOption } from 'echarts/core'
