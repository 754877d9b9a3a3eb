package api

import (
	"github.com/netstrata/netstrata/api/apiv1"
)

// The JSON shapes the handlers encode live in package apiv1, which the
// clients share without importing the server; the handlers name them
// unqualified.
type (
	ErrorResponse          = apiv1.ErrorResponse
	ErrorBody              = apiv1.ErrorBody
	Range                  = apiv1.Range
	InterfacesResponse     = apiv1.InterfacesResponse
	Interface              = apiv1.Interface
	SeriesResponse         = apiv1.SeriesResponse
	SeriesPoint            = apiv1.SeriesPoint
	Rates                  = apiv1.Rates
	TopNResponse           = apiv1.TopNResponse
	TopNRow                = apiv1.TopNRow
	SocketsResponse        = apiv1.SocketsResponse
	Session                = apiv1.Session
	TrafficMap             = apiv1.TrafficMap
	TrafficMapResponse     = apiv1.TrafficMapResponse
	MapNode                = apiv1.MapNode
	MapEdge                = apiv1.MapEdge
	ReconciliationResponse = apiv1.ReconciliationResponse
	Reconciliation         = apiv1.Reconciliation
	Investigation          = apiv1.Investigation
	Subject                = apiv1.Subject
	LayerStatus            = apiv1.LayerStatus
	Window                 = apiv1.Window
	Contributors           = apiv1.Contributors
	Contributor            = apiv1.Contributor
	SessionHealth          = apiv1.SessionHealth
	HealthStats            = apiv1.HealthStats
	PathInterface          = apiv1.PathInterface
	PathSNMP               = apiv1.PathSNMP
	PodStatus              = apiv1.PodStatus
	Verdict                = apiv1.Verdict
	OutsideRange           = apiv1.OutsideRange
)
